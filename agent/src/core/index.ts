export * from './clock.js';
export * from './errors.js';
export * from './events.js';
export * from './lines.js';
export * from './log.js';
export * from './random.js';
export type * from './service.js';
export * from './stdio.js';
export * from './types.js';
