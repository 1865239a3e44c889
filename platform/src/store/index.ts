export { type Engine, openEngine, type Queryable, redact } from './engine.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export { MIGRATIONS } from './migrations.js';
export { Store, type StoreOptions } from './service.js';
export type {
  ChainHead,
  DeviceInput,
  DeviceKeyRow,
  DeviceRow,
  IngestItem,
  IngestResult,
  SettingName,
} from './types.js';
export { SETTINGS } from './types.js';
