export { CollectorError, type CollectorErrorCode } from './errors.js';
export { Collector } from './service.js';
export type { CollectorOptions, CollectorStats } from './types.js';
