/** The graph IR shared by every stage: types, reading helpers, navigation, mutation and a text dump. */
export * from './types.js';
export * from './dtype.js';
export * from './tensor.js';
export * from './attributes.js';
export * from './values.js';
export * from './walk.js';
export * from './navigate.js';
export * from './topo.js';
export * from './mutate.js';
export * from './dump.js';
export * from './builder.js';
