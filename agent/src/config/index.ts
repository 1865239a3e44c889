export { fsyncDir, TEMP_SUFFIX, writeFileAtomic } from '../files/index.js';
export {
  FileReadError,
  KeyPermissionError,
  loadJsonState,
  openLogFile,
  quarantineFile,
  readJsonState,
  readPublicFile,
  readSecretFile,
  writeJsonState,
} from './files.js';
export {
  ConfigError,
  configPath,
  DEFAULT_CONFIG_PATH,
  loadConfig,
  parseConfig,
  resolvePaths,
} from './load.js';
export { deepMerge, effectiveConfig, readRawConfig, remoteIssues } from './remote.js';
export { configSchema, DEFAULT_INTEGRITY_PATHS, DEFAULT_SCHEDULES, DEVICE_ID_PATTERN } from './schema.js';
export type { AgentConfig, BatchPolicy, PrivacyRule } from './types.js';
export * from './validate.js';
