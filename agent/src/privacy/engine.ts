import { join } from 'node:path';
import type { PrivacyRule } from '../config/index.js';
import type { Clock, Random, Reading, Service } from '../core/index.js';
import { PseudonymKey, type Rotation } from './pseudonym.js';
import { sealValue } from './seal.js';

export interface PrivacyOptions {
  rules: PrivacyRule[];
  rotation: Rotation;
  /** Raw 32-byte X25519 public key of the platform, for `seal`. */
  platformPublicKey?: Uint8Array;
  /** Folder of the pseudonymisation key. */
  dir: string;
  clock: Clock;
  random: Random;
  /** Whether the wall clock can be trusted now (key rotation waits otherwise). */
  clockTrusted?: () => boolean;
}

const globToRegExp = (g: string): RegExp =>
  new RegExp(`^${g.replace(/[.+?^${}()|[\]\\/]/g, '\\$&').replace(/\*/g, '.*')}$`);

/** The rules that apply to one sensor, in order. */
export function rulesFor(rules: PrivacyRule[], sensorId: string): PrivacyRule[] {
  return rules.filter((r) => r.sensors.some((g) => globToRegExp(g).test(sensorId)));
}

const round = (n: number, step: number): number => {
  const r = Math.round(n / step) * step;
  // Keep the decimals of the step only (0.1 + 0.2 style noise would re-identify nothing but looks wrong).
  const decimals = (String(step).split('.')[1] ?? '').length;
  return Number(r.toFixed(Math.min(decimals, 12)));
};

/**
 * Applies the privacy rules to a reading before it is sealed, so no raw
 * personal data reaches the buffer, the broker or a log unless a rule allows it.
 * Returns null when a rule drops the whole reading.
 */
export class PrivacyEngine implements Service {
  readonly name = 'privacy';
  readonly key: PseudonymKey;

  constructor(private readonly opts: PrivacyOptions) {
    this.key = new PseudonymKey(join(opts.dir, 'pseudonym.key'), opts.rotation, opts.random);
  }

  async start(): Promise<void> {
    // Loading (or making) the key now surfaces a bad key file at start, not on the first reading.
    if (this.opts.rules.some((r) => r.action === 'pseudonymise')) this.pseudonym('start');
  }

  async stop(): Promise<void> {}

  get active(): boolean {
    return this.opts.rules.length > 0;
  }

  apply(reading: Reading): Reading | null {
    const rules = rulesFor(this.opts.rules, reading.sensorId);
    if (rules.length === 0) return reading;
    let r: Reading = { ...reading, labels: { ...reading.labels } };
    for (const rule of rules) {
      const next = this.applyOne(r, rule);
      if (!next) return null;
      r = next;
    }
    return r;
  }

  private pseudonym(v: string): string {
    return this.key.pseudonym(v, this.opts.clock.now(), this.opts.clockTrusted?.() ?? true);
  }

  /**
   * A rule on the value either applies or drops the reading: a value it cannot
   * transform (a flag to generalise, no platform key to seal to, a step of 0)
   * never leaves as it came.
   */
  private applyToValue(r: Reading, rule: PrivacyRule): Reading | null {
    const v = r.value;
    // Already encrypted to the platform: nothing on the device can read it, any rule is satisfied.
    if (v.kind === 'sealed') return r;
    switch (rule.action) {
      case 'drop':
        return null;
      case 'pseudonymise':
        if (v.kind === 'flag') return null;
        return {
          ...r,
          value: {
            kind: 'text',
            value: this.pseudonym(
              v.kind === 'blob' ? Buffer.from(v.value).toString('base64') : String(v.value),
            ),
          },
        };
      case 'generalise': {
        const step = rule.step ?? 0;
        if (!(step > 0)) return null;
        if (v.kind === 'number') return { ...r, value: { kind: 'number', value: round(v.value, step) } };
        // A number sent as text ("52.5200177") is generalised like a number, as text.
        const n = v.kind === 'text' && v.value.trim() !== '' ? Number(v.value) : Number.NaN;
        return Number.isFinite(n) ? { ...r, value: { kind: 'text', value: String(round(n, step)) } } : null;
      }
      case 'seal': {
        if (!this.opts.platformPublicKey) return null;
        const plain = v.kind === 'blob' ? Buffer.from(v.value).toString('base64') : v.value;
        return {
          ...r,
          value: {
            kind: 'sealed',
            value: sealValue(plain, this.opts.platformPublicKey, this.opts.random.bytes),
          },
        };
      }
    }
  }

  private applyOne(r: Reading, rule: PrivacyRule): Reading | null {
    if (rule.target === 'reading') return null;
    if (rule.target === 'ts') {
      const s = (rule.truncateS ?? 1) * 1000;
      return { ...r, tsMs: Math.floor(r.tsMs / s) * s };
    }
    if (rule.target === 'value') return this.applyToValue(r, rule);
    const name = rule.target.slice('label:'.length);
    const label = r.labels[name];
    // A rule naming a label the reading lacks is not an error.
    if (label === undefined) return r;
    switch (rule.action) {
      case 'drop':
        delete r.labels[name];
        return r;
      case 'pseudonymise':
        r.labels[name] = this.pseudonym(label);
        return r;
      case 'generalise': {
        const n = Number(label);
        if (rule.step !== undefined && rule.step > 0 && label.trim() !== '' && Number.isFinite(n))
          r.labels[name] = String(round(n, rule.step));
        else delete r.labels[name]; // cannot generalise it: it must not leave as it was
        return r;
      }
      case 'seal':
        if (this.opts.platformPublicKey)
          r.labels[name] = Buffer.from(
            sealValue(label, this.opts.platformPublicKey, this.opts.random.bytes),
          ).toString('base64');
        else delete r.labels[name];
        return r;
    }
  }
}
