import { type KeyObject, sign } from 'node:crypto';
import { type AckMessage, decodeAck, decodeEnvelope, encodeAck, encodeEnvelope } from './codec.js';
import { VerifyError } from './errors.js';
import type { KeyRing } from './keys.js';
import { verifyEd25519 } from './keys.js';

/** An ack is tiny; anything near this size is not one. */
export const MAX_ACK_ENVELOPE_BYTES = 1024;

/** The collector's side: Ack → bytes → Ed25519 signature by its collector role key → Envelope bytes. */
export function sealAck(ack: AckMessage, signingKey: KeyObject, keyId: string): Uint8Array {
  const payload = encodeAck(ack);
  const signature = new Uint8Array(sign(null, payload, signingKey));
  return encodeEnvelope({ payload, signature, keyId });
}

/** A verified ack and the collector key that signed it. */
export interface VerifiedAck {
  ack: AckMessage;
  keyId: string;
}

/**
 * The agent's side: envelope bytes + the current collector keys → the Ack, or a
 * VerifyError. The signature is checked before the payload is parsed; the caller
 * still checks `device_id` and `up_to_seq` against its own chain head.
 */
export function openAck(bytes: Uint8Array, collectorKeys: KeyRing): VerifiedAck {
  const env = decodeEnvelope(bytes, MAX_ACK_ENVELOPE_BYTES);
  const entry = collectorKeys.get(env.keyId);
  if (!entry) {
    throw new VerifyError(
      'UNKNOWN_KEY',
      `ack signed by "${env.keyId.slice(0, 64)}", not a current collector key`,
    );
  }
  if (!verifyEd25519(entry.key, env.payload, env.signature)) {
    throw new VerifyError('BAD_SIGNATURE', `ack signature does not verify with collector key ${env.keyId}`);
  }
  return { ack: decodeAck(env.payload), keyId: env.keyId };
}
