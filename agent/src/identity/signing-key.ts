import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readSecretFile } from '../config/files.js';
import { keyIdOf, rawPublicKey } from '../telemetry/keys.js';
import { IdentityFileError } from './errors.js';

// Apart from keys.ts (which makes keys and CSRs) so that `status` and `identity show` read the
// key without the telemetry barrel and its protobuf codec (a light entry, scripts/check-imports.ts).

/** The device's Ed25519 signing identity. */
export interface SigningIdentity {
  privateKey: KeyObject;
  /** Raw 32-byte public key. */
  publicKey: Uint8Array;
  keyId: string;
}

/** Loads the Ed25519 signing key (PKCS#8 PEM, mode 0600). */
export function loadSigningKey(file: string): SigningIdentity {
  const pem = readSecretFile(file);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (e) {
    throw new IdentityFileError(file, 'not a PEM private key', { cause: e });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new IdentityFileError(file, `an Ed25519 key is required, found ${privateKey.asymmetricKeyType}`);
  const publicKey = rawPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}
