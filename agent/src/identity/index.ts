export {
  FileReadError,
  KeyPermissionError,
  readPublicFile,
  readSecretFile,
  writeFileAtomic,
} from '../config/index.js';
export { type CertProblem, checkIssued, signedNotBefore } from './certcheck.js';
export { IdentityExistsError, IdentityFileError, ProvisionedPairError } from './errors.js';
export {
  type IdentityPaths,
  type InitResult,
  initIdentity,
  makeCsr,
  makeTlsKey,
} from './keys.js';
export { CertRenewal, type RenewalOptions } from './renewal.js';
export { DeviceIdentity } from './service.js';
export { describeIdentity, type IdentityInfo } from './show.js';
export { loadSigningKey, type SigningIdentity } from './signing-key.js';
