export { MAX_ACK_ENVELOPE_BYTES, openAck, sealAck, type VerifiedAck } from './ack.js';
export { type ChainFinding, ChainTracker, type ChainTrackerOptions } from './chain.js';
export {
  type AckMessage,
  type DecodedBatch,
  decodeAck,
  decodeBatch,
  decodeEnvelope,
  encodeAck,
  encodeBatch,
  encodeEnvelope,
} from './codec.js';
export { VerifyError, type VerifyFailure } from './errors.js';
export { KeyRing, keyIdOf, publicKeyFromRaw, rawPublicKey, verifyEd25519 } from './keys.js';
export { type SealContext, seal, sha256, ZERO_HASH } from './seal.js';
export { type VerifiedBatch, verifyEnvelope } from './verify.js';
export { checkWire, DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH } from './wire.js';
