export { Batcher, type BatcherOptions, type Commit, type Policy } from './batcher.js';
export { ItemTooLargeError } from './errors.js';
export {
  COLLECTOR_MAX_ENVELOPE_BYTES,
  ENVELOPE_MARGIN_BYTES,
  itemBytes,
  itemSize,
  MAX_BATCH_ITEM_BYTES,
} from './size.js';
