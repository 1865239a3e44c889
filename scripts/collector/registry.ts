import { readFileSync } from 'node:fs';
import { KeyRing } from '../../agent/src/telemetry/index.js';

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
