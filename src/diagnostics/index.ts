export * from './diagnostic.js';
export * from './catalogue.js';
export * from './make.js';
export * from './render.js';
export * from './suggest.js';
