export { RegistryError, type RegistryErrorCode } from './errors.js';
export { checkKeysDocument, loadAckKey, loadKeysDocument, parseDevice, parseRegistry } from './service.js';
