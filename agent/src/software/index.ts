export { feedInForce, LAST_GOOD_FEED, underRoot } from './current.js';
export { compareDebVersions, type DebVersion, parseDebVersion } from './debver.js';
export { diffSoftware, type SoftwareChange } from './diff.js';
export { type DpkgPackage, parseDpkgStatus, parseOsRelease } from './dpkg.js';
export { DpkgStatusError, FeedError, SoftwareError } from './errors.js';
export { MAX_CHANGES_LISTED, MAX_CVES_PER_EVENT, MAX_VULN_EVENTS_PER_RUN } from './events.js';
export {
  describeIssues,
  loadFeed,
  MAX_FEED_BYTES,
  MAX_FEED_RECORDS,
  parseFeedBody,
  recordSchema,
} from './feed.js';
export {
  DPKG_STATUS,
  INSTALLED_LOCKFILE,
  type InventoryOptions,
  OWN_LOCKFILE,
  readInventory,
} from './inventory.js';
export { type KernelInfo, parseKernel } from './kernel.js';
export { affects, type FeedIndex, indexFeed, matchFeed, urgentFindings } from './match.js';
export { debPurl, type NpmPackage, npmPurl, parseLockfile } from './npm.js';
export { debianEquivalent, packageVendor } from './raspbian.js';
export { buildSbom, type SbomOptions, serialFrom } from './sbom.js';
export {
  MAX_SBOM_REPORT_BYTES,
  SoftwareService,
  type SoftwareServiceOptions,
} from './service.js';
export {
  readSoftwareSummary,
  SOFTWARE_STATE,
  type SoftwareSummary,
  summarize,
  summaryLine,
} from './summary.js';
export type {
  AffectedRange,
  Feed,
  FeedBody,
  FeedSeverity,
  Finding,
  OsRelease,
  SoftwareComponent,
  SoftwareInventory,
  VulnRecord,
} from './types.js';
