import { generateKeyPairSync } from 'node:crypto';
import { rawPublicKey } from '../../agent/src/telemetry/index.js';
import { type DocType, type SignedDoc, signDocument } from '../../agent/src/trust/index.js';

/** An Ed25519 key for signing documents in tests. */
export function docKey() {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = rawPublicKey(privateKey);
  return { privateKey, publicKey, b64: Buffer.from(publicKey).toString('base64') };
}
export type DocKey = ReturnType<typeof docKey>;

export function makeDoc(
  type: DocType,
  version: number,
  body: unknown,
  key: DocKey,
  extra: Partial<SignedDoc> = {},
): Buffer {
  return Buffer.from(
    signDocument({ type, version, issuedAt: '2026-11-26T10:00:00Z', body, ...extra }, [key]),
  );
}
