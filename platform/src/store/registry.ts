import { keyIdOf } from '../../../agent/src/telemetry/index.js';
import type { Engine, Queryable } from './engine.js';
import { StoreError } from './errors.js';
import type { DeviceInput, DeviceKeyRow, DeviceRow } from './types.js';

const ms = (v: unknown): number | null =>
  v === null || v === undefined ? null : new Date(v as string).getTime();
const iso = (v: unknown): string | null =>
  v === null || v === undefined ? null : new Date(v as string).toISOString();

/** Adds or updates one device, and adds its signing key if given (a known key is kept as it is). */
export async function upsertDevice(q: Queryable, d: DeviceInput): Promise<void> {
  await q.query(
    `INSERT INTO devices (device_id, site, lat, lon, groups, cert_fingerprint, cert_expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (device_id) DO UPDATE SET
       site = COALESCE(EXCLUDED.site, devices.site), lat = COALESCE(EXCLUDED.lat, devices.lat),
       lon = COALESCE(EXCLUDED.lon, devices.lon),
       groups = CASE WHEN cardinality(EXCLUDED.groups) > 0 THEN EXCLUDED.groups ELSE devices.groups END,
       cert_fingerprint = COALESCE(EXCLUDED.cert_fingerprint, devices.cert_fingerprint),
       cert_expires_at = COALESCE(EXCLUDED.cert_expires_at, devices.cert_expires_at)`,
    [
      d.deviceId,
      d.site ?? null,
      d.lat ?? null,
      d.lon ?? null,
      d.groups ?? [],
      d.certFingerprint ?? null,
      d.certExpiresAt ?? null,
    ],
  );
  if (d.signingPublicKey === undefined) return;
  const raw = Buffer.from(d.signingPublicKey, 'base64');
  await q.query(
    `INSERT INTO device_keys (key_id, device_id, public_key, valid_from, valid_until)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key_id) DO NOTHING`,
    [keyIdOf(raw), d.deviceId, raw, d.keyValidFrom ?? null, d.keyValidUntil ?? null],
  );
}

/** Revokes one key, or (without `keyId`) the device and every key it has. Returns the keys revoked. */
export async function revoke(
  engine: Engine,
  deviceId: string,
  keyId: string | undefined,
  reason: string,
): Promise<number> {
  return engine.transaction(async (tx) => {
    const known = await tx.query('SELECT 1 FROM devices WHERE device_id = $1', [deviceId]);
    if (known.length === 0)
      throw new StoreError('UNKNOWN_DEVICE', `device "${deviceId}" is not in the registry`);
    if (keyId === undefined)
      await tx.query('UPDATE devices SET revoked_at = COALESCE(revoked_at, now()) WHERE device_id = $1', [
        deviceId,
      ]);
    const rows = await tx.query(
      `UPDATE device_keys SET revoked_at = now(), revoked_reason = $3
       WHERE device_id = $1 AND ($2::text IS NULL OR key_id = $2) AND revoked_at IS NULL RETURNING key_id`,
      [deviceId, keyId ?? null, reason],
    );
    if (keyId !== undefined && rows.length === 0)
      throw new StoreError('UNKNOWN_DEVICE', `device "${deviceId}" has no unrevoked key "${keyId}"`);
    return rows.length;
  });
}

/** Every key of every device, revoked ones included (the collector alerts on those). */
export async function allKeys(q: Queryable): Promise<DeviceKeyRow[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT k.key_id, k.device_id, k.public_key, k.valid_from, k.valid_until,
            (k.revoked_at IS NOT NULL OR d.revoked_at IS NOT NULL) AS revoked
     FROM device_keys k JOIN devices d USING (device_id)`,
  );
  return rows.map((r) => ({
    keyId: r.key_id as string,
    deviceId: r.device_id as string,
    publicKey: Buffer.from(r.public_key as Uint8Array),
    validFromMs: ms(r.valid_from),
    validUntilMs: ms(r.valid_until),
    revoked: Boolean(r.revoked),
  }));
}

export async function listDevices(q: Queryable): Promise<DeviceRow[]> {
  const devices = await q.query<Record<string, unknown>>('SELECT * FROM devices ORDER BY device_id');
  const keys = await q.query<Record<string, unknown>>('SELECT * FROM device_keys ORDER BY device_id, key_id');
  return devices.map((d) => ({
    deviceId: d.device_id as string,
    site: (d.site as string | null) ?? null,
    lat: (d.lat as number | null) ?? null,
    lon: (d.lon as number | null) ?? null,
    groups: (d.groups as string[]) ?? [],
    certFingerprint: (d.cert_fingerprint as string | null) ?? null,
    certExpiresAt: iso(d.cert_expires_at),
    revokedAt: iso(d.revoked_at),
    keys: keys
      .filter((k) => k.device_id === d.device_id)
      .map((k) => ({
        keyId: k.key_id as string,
        validFrom: iso(k.valid_from),
        validUntil: iso(k.valid_until),
        revokedAt: iso(k.revoked_at),
      })),
  }));
}
