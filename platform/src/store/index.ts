export { type Engine, openEngine, PG_DEFAULTS, type PgLimits, type Queryable, redact } from './engine.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export { MIGRATIONS } from './migrations.js';
export { Store, type StoreOptions } from './service.js';
export type {
  ChainCounts,
  ChainHead,
  DeviceInput,
  DeviceKeyRow,
  DeviceRow,
  IngestItem,
  IngestResult,
  SettingName,
} from './types.js';
export { addChainCounts, SETTINGS, zeroChainCounts } from './types.js';
