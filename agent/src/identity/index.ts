export {
  FileReadError,
  KeyPermissionError,
  readPublicFile,
  readSecretFile,
  writeFileAtomic,
} from '../config/index.js';
export { IdentityExistsError, IdentityFileError } from './errors.js';
export {
  type IdentityPaths,
  initIdentity,
  loadSigningKey,
  makeCsr,
  makeTlsKey,
  type SigningIdentity,
} from './keys.js';
export { DeviceIdentity } from './service.js';
export { describeIdentity, type IdentityInfo } from './show.js';
