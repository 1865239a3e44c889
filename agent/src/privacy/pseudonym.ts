import { createHmac } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, statSync, writeSync } from 'node:fs';
import { readSecretFile, writeFileAtomic } from '../config/index.js';
import type { Random } from '../core/index.js';

export type Rotation = 'hourly' | 'daily' | 'weekly';

/** The key period a wall-clock time falls in: pseudonyms are stable within it, unlinkable across it. */
export function periodOf(ms: number, rotation: Rotation): string {
  const iso = new Date(ms).toISOString();
  if (rotation === 'hourly') return iso.slice(0, 13);
  if (rotation === 'daily') return iso.slice(0, 10);
  const d = new Date(ms);
  const monday =
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - ((d.getUTCDay() + 6) % 7) * 86_400_000;
  return `week-${new Date(monday).toISOString().slice(0, 10)}`;
}

/**
 * The keyed-HMAC pseudonymisation key: kept on the device (0600), rotated when
 * the period changes; the rotated-out key is overwritten before it is replaced,
 * so earlier pseudonyms can no longer be linked to identifiers.
 */
export class PseudonymKey {
  private key: Buffer | undefined;
  private period = '';

  constructor(
    private readonly file: string,
    private readonly rotation: Rotation,
    private readonly random: Random,
  ) {}

  /** The pseudonym of `value` under the key of the period `nowMs` falls in. `trusted` false keeps the current key. */
  pseudonym(value: string, nowMs: number, trusted = true): string {
    const key = this.keyFor(periodOf(nowMs, this.rotation), trusted);
    return `ps:${createHmac('sha256', key).update(value, 'utf8').digest('base64url').slice(0, 22)}`;
  }

  get currentPeriod(): string {
    return this.period;
  }

  /** Destroys the key (wipe). */
  destroy(): void {
    if (existsSync(this.file)) overwrite(this.file);
    this.key?.fill(0);
    this.key = undefined;
    this.period = '';
  }

  private keyFor(period: string, trusted: boolean): Buffer {
    if (!this.key) this.load();
    if (this.key && (this.period === period || !trusted)) return this.key;
    // A new period: destroy the old key, then make the new one.
    if (existsSync(this.file)) overwrite(this.file);
    this.key?.fill(0);
    this.key = Buffer.from(this.random.bytes(32));
    this.period = period;
    writeFileAtomic(this.file, JSON.stringify({ period, key: this.key.toString('base64') }), 0o600);
    return this.key;
  }

  private load(): void {
    if (!existsSync(this.file)) return;
    const v = JSON.parse(readSecretFile(this.file)) as { period?: string; key?: string };
    if (typeof v.period === 'string' && typeof v.key === 'string') {
      this.key = Buffer.from(v.key, 'base64');
      this.period = v.period;
    }
  }
}

/** Overwrites a file's bytes with zeros in place (then it can be replaced or removed). */
export function overwrite(file: string): void {
  const size = statSync(file).size;
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(size), 0, size, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
