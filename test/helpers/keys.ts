import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { keyIdOf, rawPublicKey } from '../../agent/src/telemetry/index.js';

/** A fresh Ed25519 identity for tests. */
export function testSigner(): { privateKey: KeyObject; raw: Uint8Array; keyId: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const raw = rawPublicKey(privateKey);
  return { privateKey, raw, keyId: keyIdOf(raw) };
}
