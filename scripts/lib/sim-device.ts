import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Stream as S, type Stream, type StreamItem } from '../../agent/src/core/index.js';
import { KeyRing, keyIdOf, rawPublicKey, seal, ZERO_HASH } from '../../agent/src/telemetry/index.js';

/**
 * A simulated gateway for the platform's tests and bench: the agent's own seal code and
 * chain heads, without a daemon. Each stream keeps its chain position like the outbox does.
 */
export class SimDevice {
  readonly key: KeyObject;
  readonly raw: Uint8Array;
  readonly keyId: string;
  private readonly heads = new Map<Stream, { seq: number; prevHash: Uint8Array }>();

  constructor(
    readonly deviceId: string,
    readonly epoch = 1,
  ) {
    this.key = generateKeyPairSync('ed25519').privateKey;
    this.raw = rawPublicKey(this.key);
    this.keyId = keyIdOf(this.raw);
  }

  /** As `edge-agent identity show --json` prints it: what the registry imports. */
  get entry(): { deviceId: string; signingPublicKey: string } {
    return { deviceId: this.deviceId, signingPublicKey: Buffer.from(this.raw).toString('base64') };
  }

  addTo(ring: KeyRing): KeyRing {
    ring.add(this.deviceId, this.raw);
    return ring;
  }

  /** Seals the next batch of `stream`; returns its envelope and seq. */
  next(
    stream: Stream,
    items: StreamItem[],
    nowMs = 1_764_150_000_000,
  ): { envelope: Uint8Array; seq: number } {
    const h = this.heads.get(stream) ?? { seq: 0, prevHash: ZERO_HASH };
    const sealed = seal(
      { deviceId: this.deviceId, signingKey: this.key, keyId: this.keyId, nowMs, clock: 1 },
      stream,
      items,
      { epoch: this.epoch, seq: h.seq, prevHash: h.prevHash },
    );
    this.heads.set(stream, { seq: sealed.seq, prevHash: sealed.payloadHash });
    return { envelope: sealed.envelope, seq: sealed.seq };
  }

  /** A telemetry batch of `n` numeric readings with values from `first` on. */
  readings(n: number, first = 0, sensor = 'aq-7'): { envelope: Uint8Array; seq: number } {
    const items: StreamItem[] = Array.from({ length: n }, (_, i) => ({
      stream: S.TELEMETRY,
      reading: {
        sensorId: sensor,
        tsMs: 1_764_150_000_000 + first + i,
        unit: 'ug/m3',
        value: { kind: 'number', value: first + i },
        labels: {},
      },
    }));
    return this.next(S.TELEMETRY, items);
  }
}

export const ringOf = (devices: SimDevice[]): KeyRing => {
  const ring = new KeyRing();
  for (const d of devices) d.addTo(ring);
  return ring;
};
