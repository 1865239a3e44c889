export { Batcher, type BatcherOptions, type Commit, type Policy } from './batcher.js';
