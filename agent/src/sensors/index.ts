export { assess, compareVersions, profileOf } from './assess.js';
export { diffInventory, type InventoryChange } from './diff.js';
export { type DiscoveryResult, discover, fingerprint } from './discover.js';
export { DiscoveryError } from './errors.js';
export {
  loadProfilesBundle,
  type MatchRule,
  type Profile,
  parseProfiles,
  profileSchema,
  type Vulnerability,
} from './profiles.js';
export { profilesFrom, SensorService, type SensorServiceOptions } from './service.js';
export { InventoryStore } from './store.js';
export { safeText } from './text.js';
export type { Assessed, Device, Verdict } from './types.js';
