import { KeyRing } from '../../../agent/src/telemetry/index.js';
import type { DeviceKeyRow, Store } from '../store/index.js';

/** The registry as a collector uses it: reloaded from the store, never trusted from a message. */
export class KeyDirectory {
  ring = new KeyRing();
  devices = new Set<string>();
  private rows = new Map<string, DeviceKeyRow>();
  private revokedDevices = new Set<string>();

  constructor(private readonly store: Store) {}

  /** Reloads keys and devices; returns the devices new since the last load. */
  async refresh(): Promise<string[]> {
    const keys = await this.store.keys();
    const ring = new KeyRing();
    const devices = new Set<string>();
    const revokedDevices = new Set<string>();
    for (const d of await this.store.devices()) (d.revokedAt ? revokedDevices : devices).add(d.deviceId);
    for (const k of keys) if (!k.revoked && devices.has(k.deviceId)) ring.add(k.deviceId, k.publicKey);
    const fresh = [...devices].filter((d) => !this.devices.has(d));
    this.ring = ring;
    this.devices = devices;
    this.revokedDevices = revokedDevices;
    this.rows = new Map(keys.map((k) => [k.keyId, k]));
    return fresh;
  }

  isRevokedDevice(device: string): boolean {
    return this.revokedDevices.has(device);
  }

  /** A key the registry knows but no longer trusts. */
  revokedKey(keyId: string): DeviceKeyRow | undefined {
    const k = this.rows.get(keyId);
    return k?.revoked ? k : undefined;
  }

  /** Whether `keyId` was valid when the batch was sealed (its `created_at`). */
  validAt(keyId: string, createdAtMs: number): boolean {
    const k = this.rows.get(keyId);
    if (!k) return false;
    if (k.validFromMs !== null && createdAtMs < k.validFromMs) return false;
    return k.validUntilMs === null || createdAtMs < k.validUntilMs;
  }
}
