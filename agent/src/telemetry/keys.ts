import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';

// DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** `key_id`: lowercase hex of the first 8 bytes of SHA-256 of the raw public key. */
export function keyIdOf(rawPublicKey: Uint8Array): string {
  return createHash('sha256').update(rawPublicKey).digest().subarray(0, 8).toString('hex');
}

/** The raw 32 bytes of an Ed25519 public (or private) key object. */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const der = pub.export({ format: 'der', type: 'spki' });
  if (der.length !== 44 || !der.subarray(0, 12).equals(ED25519_SPKI_PREFIX)) {
    throw new TypeError('not an Ed25519 key');
  }
  return new Uint8Array(der.subarray(12));
}

/**
 * Key objects by raw key. Trust documents and baselines name their keys raw, and
 * building a KeyObject cost as much as the verification itself (S1 of the torture
 * suite); a device trusts a handful of keys, so a small bounded cache holds them all.
 */
const KEY_OBJECTS = new Map<string, KeyObject>();
const KEY_OBJECTS_MAX = 64;

/** A public key object from its raw 32 bytes; throws on a wrong length. */
export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new TypeError(`an Ed25519 public key has 32 bytes, got ${raw.length}`);
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('hex');
  let key = KEY_OBJECTS.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    if (KEY_OBJECTS.size >= KEY_OBJECTS_MAX) KEY_OBJECTS.delete(KEY_OBJECTS.keys().next().value as string);
    KEY_OBJECTS.set(id, key);
  }
  return key;
}

/**
 * Ed25519 verification with Node's crypto (OpenSSL), which agrees with every
 * Wycheproof vector. Any malformed input is a plain `false`, never a throw.
 */
export function verifyEd25519(
  publicKey: KeyObject | Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.length !== 64) return false;
  try {
    const key = publicKey instanceof Uint8Array ? publicKeyFromRaw(publicKey) : publicKey;
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** A set of trusted public keys indexed by key id, each with its owner (device id). */
export class KeyRing {
  private readonly keys = new Map<string, { key: KeyObject; owner: string }>();

  /** Adds a raw public key; returns its key id. */
  add(owner: string, raw: Uint8Array): string {
    const id = keyIdOf(raw);
    this.keys.set(id, { key: publicKeyFromRaw(raw), owner });
    return id;
  }

  get(keyId: string): { key: KeyObject; owner: string } | undefined {
    return this.keys.get(keyId);
  }

  get size(): number {
    return this.keys.size;
  }
}
