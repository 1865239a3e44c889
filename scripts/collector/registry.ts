import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readSecretFile } from '../../agent/src/config/index.js';
import { KeyRing, keyIdOf, rawPublicKey } from '../../agent/src/telemetry/index.js';

/** One device as `edge-agent identity show --json` prints it. */
export interface RegistryEntry {
  deviceId: string;
  /** Base64 of the raw 32-byte Ed25519 public key. */
  signingPublicKey: string;
}

const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Reads the registry: a JSON array of entries, or `{ "devices": [...] }`.
 * Each entry is validated; a bad one is refused with its index and field.
 */
export function loadRegistry(file: string): { ring: KeyRing; devices: Set<string> } {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  const list = Array.isArray(raw) ? raw : (raw as { devices?: unknown }).devices;
  if (!Array.isArray(list)) throw new Error(`${file}: expected an array of devices or {"devices": [...]}`);
  const ring = new KeyRing();
  const devices = new Set<string>();
  list.forEach((e: Partial<RegistryEntry>, i) => {
    if (typeof e?.deviceId !== 'string' || !DEVICE_ID.test(e.deviceId))
      throw new Error(`${file}: [${i}].deviceId: not a valid device id`);
    const key =
      typeof e.signingPublicKey === 'string' ? Buffer.from(e.signingPublicKey, 'base64') : Buffer.alloc(0);
    if (key.length !== 32) throw new Error(`${file}: [${i}].signingPublicKey: must be base64 of 32 bytes`);
    ring.add(e.deviceId, key);
    devices.add(e.deviceId);
  });
  return { ring, devices };
}

/** The collector role key that signs acks: Ed25519, PKCS#8 PEM, 0600 (a looser file is refused). */
export function loadAckKey(file: string): KeyObject {
  const key = createPrivateKey(readSecretFile(file));
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`${file}: not an Ed25519 private key (npm run sign -- keygen --name collector)`);
  return key;
}

/**
 * The root-signed keys document to publish retained. The collector cannot check the
 * root's signature (the agents do), but it refuses a document that does not name its
 * own ack key: agents would then refuse every ack and keep every row.
 */
export function loadKeysDocument(file: string, ackKey: KeyObject): Buffer {
  const raw = readFileSync(file);
  const own = Buffer.from(rawPublicKey(ackKey)).toString('base64');
  let names: unknown;
  try {
    const c = JSON.parse(raw.toString('utf8')) as { signed: string };
    const doc = JSON.parse(Buffer.from(c.signed, 'base64').toString('utf8')) as {
      type?: string;
      body?: { roles?: { collector?: { publicKeys?: unknown } } };
    };
    if (doc.type !== 'keys') throw new Error(`a ${String(doc.type)} document, not keys`);
    names = doc.body?.roles?.collector?.publicKeys;
  } catch (e) {
    throw new Error(`${file}: not a signed keys document (${(e as Error).message})`);
  }
  if (!Array.isArray(names) || !names.includes(own))
    throw new Error(
      `${file}: body.roles.collector.publicKeys does not name the collector key ${keyIdOf(rawPublicKey(ackKey))}`,
    );
  return raw;
}
