export { discover } from './discover.js';
export type * from './types.js';
