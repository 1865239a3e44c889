export { IdentityExistsError, IdentityFileError, KeyPermissionError } from './errors.js';
export { readPublicFile, readSecretFile, writeFileAtomic } from './files.js';
export {
  type IdentityPaths,
  initIdentity,
  loadSigningKey,
  makeCsr,
  makeTlsKey,
  type SigningIdentity,
} from './keys.js';
export { describeIdentity, type IdentityInfo } from './show.js';
