export {
  type DocType,
  DocumentError,
  type Role,
  SIGNER_OF,
  type SignedDoc,
  signDocument,
  targets,
  verifyDocument,
} from './document.js';
export {
  type Accepted,
  type Audience,
  applyKeysDocument,
  checkCatalogueDocument,
  checkDocument,
  checkProfilesDocument,
  type OtaContext,
} from './ota.js';
export { type KeysBody, TRUST_CORRUPT_MARKER, TrustStore, TrustStoreCorruptError } from './store.js';
