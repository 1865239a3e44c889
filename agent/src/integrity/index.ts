export { type Baseline, BaselineError, readBaseline, writeBaseline } from './baseline.js';
export { type Change, diffEntries } from './diff.js';
export { PathOutsideRootError, underRoot } from './paths.js';
export { type BaselineInput, type IntegrityReport, makeBaseline, verifyAgainstBaseline } from './run.js';
export { type Entry, hashFile, type ScanProgress, scan } from './scan.js';
export { IntegrityService, type IntegrityServiceOptions } from './service.js';
