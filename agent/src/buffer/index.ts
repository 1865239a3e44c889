export { BufferBusyError, BufferError, BufferFullError } from './errors.js';
export type { EvictionRange } from './eviction.js';
export { readOfflineStats } from './offline.js';
export {
  type AppendRequest,
  MAX_PENDING,
  Outbox,
  type OutboxOptions,
  type OutboxRow,
  type RowFigures,
  type StoredRow,
  type StreamStats,
} from './outbox.js';
export { Retention, type RetentionOptions } from './retention.js';
