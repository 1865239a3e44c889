import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readSecretFile } from '../../../agent/src/config/index.js';
import { keyIdOf, rawPublicKey } from '../../../agent/src/telemetry/index.js';
import type { DeviceInput } from '../store/index.js';
import { RegistryError } from './errors.js';

const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FIELDS = new Set([
  'deviceId',
  'signingPublicKey',
  'site',
  'lat',
  'lon',
  'groups',
  'certFingerprint',
  'certExpiresAt',
  'keyValidFrom',
  'keyValidUntil',
  // Printed by `edge-agent identity show --json`, not kept by the registry.
  'keyId',
  'tlsPublicKey',
  'csr',
]);

const isDate = (v: unknown): boolean => typeof v === 'string' && !Number.isNaN(Date.parse(v));

/** Checks one registry entry; throws naming `where` and the field. */
export function parseDevice(e: unknown, where: string): DeviceInput {
  if (typeof e !== 'object' || e === null || Array.isArray(e))
    throw new RegistryError('BAD_REGISTRY', `${where}: expected an object`);
  const o = e as Record<string, unknown>;
  const bad = (field: string, why: string) => new RegistryError('BAD_REGISTRY', `${where}.${field}: ${why}`);
  for (const k of Object.keys(o)) if (!FIELDS.has(k)) throw bad(k, 'unknown field');
  if (typeof o.deviceId !== 'string' || !DEVICE_ID.test(o.deviceId))
    throw bad('deviceId', 'not a valid device id (letters, digits, . _ -, at most 64)');
  if (o.signingPublicKey !== undefined) {
    const raw =
      typeof o.signingPublicKey === 'string' ? Buffer.from(o.signingPublicKey, 'base64') : Buffer.alloc(0);
    if (raw.length !== 32) throw bad('signingPublicKey', 'must be base64 of a raw 32-byte Ed25519 key');
  }
  for (const f of ['lat', 'lon'] as const)
    if (o[f] !== undefined && (typeof o[f] !== 'number' || !Number.isFinite(o[f])))
      throw bad(f, 'must be a number');
  if (o.lat !== undefined && Math.abs(o.lat as number) > 90) throw bad('lat', 'must be within -90..90');
  if (o.lon !== undefined && Math.abs(o.lon as number) > 180) throw bad('lon', 'must be within -180..180');
  if (
    o.groups !== undefined &&
    (!Array.isArray(o.groups) || o.groups.some((g) => typeof g !== 'string' || g === ''))
  )
    throw bad('groups', 'must be a list of names');
  for (const f of ['site', 'certFingerprint'] as const)
    if (o[f] !== undefined && typeof o[f] !== 'string') throw bad(f, 'must be text');
  for (const f of ['certExpiresAt', 'keyValidFrom', 'keyValidUntil'] as const)
    if (o[f] !== undefined && !isDate(o[f])) throw bad(f, 'must be a date (ISO 8601)');
  return {
    deviceId: o.deviceId,
    signingPublicKey: o.signingPublicKey as string | undefined,
    site: o.site as string | undefined,
    lat: o.lat as number | undefined,
    lon: o.lon as number | undefined,
    groups: o.groups as string[] | undefined,
    certFingerprint: o.certFingerprint as string | undefined,
    certExpiresAt: o.certExpiresAt as string | undefined,
    keyValidFrom: o.keyValidFrom as string | undefined,
    keyValidUntil: o.keyValidUntil as string | undefined,
  };
}

/**
 * The registry JSON of the old collector: an array of what `edge-agent identity show --json`
 * prints, or `{"devices": [...]}`, optionally with site, coordinates, groups and certificate facts.
 */
export function parseRegistry(text: string, file: string): DeviceInput[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new RegistryError('BAD_REGISTRY', `${file}: not JSON (${(e as Error).message})`);
  }
  const list = Array.isArray(raw) ? raw : (raw as { devices?: unknown } | null)?.devices;
  if (!Array.isArray(list))
    throw new RegistryError('BAD_REGISTRY', `${file}: expected an array of devices or {"devices": [...]}`);
  return list.map((e, i) => parseDevice(e, `${file}: [${i}]`));
}

/** The collector role key that signs acks: Ed25519, PKCS#8 PEM, 0600 (a looser file is refused). */
export function loadAckKey(file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(readSecretFile(file));
  } catch (e) {
    throw new RegistryError('BAD_COLLECTOR_KEY', `${file}: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new RegistryError(
      'BAD_COLLECTOR_KEY',
      `${file}: not an Ed25519 private key (npm run sign -- keygen --name collector)`,
    );
  return key;
}

/**
 * The root-signed keys document to publish retained. The collector cannot check the
 * root's signature (the agents do), but it refuses a document that does not name its
 * own ack key: agents would then refuse every ack and keep every row.
 */
export function checkKeysDocument(raw: Buffer, ackKey: KeyObject, file: string): Buffer {
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
    throw new RegistryError(
      'BAD_KEYS_DOCUMENT',
      `${file}: not a signed keys document (${(e as Error).message})`,
    );
  }
  if (!Array.isArray(names) || !names.includes(own))
    throw new RegistryError(
      'BAD_KEYS_DOCUMENT',
      `${file}: body.roles.collector.publicKeys does not name the collector key ${keyIdOf(rawPublicKey(ackKey))}`,
    );
  return raw;
}

export function loadKeysDocument(file: string, ackKey: KeyObject): Buffer {
  return checkKeysDocument(readFileSync(file), ackKey, file);
}
