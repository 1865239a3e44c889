export { PrivacyEngine, type PrivacyOptions, rulesFor } from './engine.js';
export { overwrite, PseudonymKey, periodOf, type Rotation } from './pseudonym.js';
export { openSealed, sealValue } from './seal.js';
export { type WipeReport, wipeFiles } from './wipe.js';
