import { type DecodedBatch, decodeBatch, decodeEnvelope } from './codec.js';
import { VerifyError } from './errors.js';
import type { KeyRing } from './keys.js';
import { verifyEd25519 } from './keys.js';
import { sha256 } from './seal.js';
import { DEFAULT_MAX_BYTES } from './wire.js';

/** A batch whose origin is proven. */
export interface VerifiedBatch {
  batch: DecodedBatch;
  keyId: string;
  /** The owner registered for the key (a device id). */
  owner: string;
  /** SHA-256 of the payload, to chain and to tell a true duplicate from a forgery. */
  payloadHash: Uint8Array;
}

/**
 * envelope bytes + trusted keys → decoded Batch, or a VerifyError saying why.
 * The signature is checked before the payload is parsed.
 */
export function verifyEnvelope(
  bytes: Uint8Array,
  keys: KeyRing,
  maxBytes = DEFAULT_MAX_BYTES,
): VerifiedBatch {
  const env = decodeEnvelope(bytes, maxBytes);
  const entry = keys.get(env.keyId);
  if (!entry) throw new VerifyError('UNKNOWN_KEY', `no trusted key with id "${env.keyId.slice(0, 64)}"`);
  if (!verifyEd25519(entry.key, env.payload, env.signature)) {
    throw new VerifyError('BAD_SIGNATURE', `signature does not verify with key ${env.keyId}`);
  }
  const batch = decodeBatch(env.payload, maxBytes);
  if (batch.deviceId !== entry.owner) {
    throw new VerifyError(
      'UNKNOWN_KEY',
      `batch names device "${batch.deviceId}" but key ${env.keyId} belongs to "${entry.owner}"`,
    );
  }
  return { batch, keyId: env.keyId, owner: entry.owner, payloadHash: sha256(env.payload) };
}
