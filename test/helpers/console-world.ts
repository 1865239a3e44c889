import { type Report, Stream, type StreamItem } from '../../agent/src/core/index.js';
import { type KeyRing, verifyEnvelope } from '../../agent/src/telemetry/index.js';
import type { Store } from '../../platform/src/store/index.js';
import { ringOf, SimDevice } from '../../scripts/lib/sim-device.js';

/**
 * Gateways for the console's tests: the agent's own seal code, batches verified and
 * stored by the platform's own ingest, so alerts come from what a real agent sends.
 */
export class Fleet {
  readonly devices = new Map<string, SimDevice>();
  private ring: KeyRing = ringOf([]);

  constructor(private readonly store: Store) {}

  async add(
    id: string,
    extra: { site?: string; lat?: number; lon?: number; certExpiresAt?: string } = {},
  ): Promise<SimDevice> {
    const d = new SimDevice(id);
    this.devices.set(id, d);
    this.ring = ringOf([...this.devices.values()]);
    await this.store.addDevices([{ ...d.entry, ...extra }]);
    return d;
  }

  /** Seals and stores one batch; returns its seq. */
  async send(id: string, stream: Stream, items: StreamItem[]): Promise<number> {
    const sealed = this.dev(id).next(stream, items);
    await this.ingest(sealed.envelope);
    return sealed.seq;
  }

  /** Seals a batch without storing it (to make a gap). */
  seal(id: string, stream: Stream, items: StreamItem[]): Uint8Array {
    return this.dev(id).next(stream, items).envelope;
  }

  async ingest(envelope: Uint8Array): Promise<void> {
    const v = verifyEnvelope(envelope, this.ring);
    await this.store.ingest([{ batch: v.batch, keyId: v.keyId, payloadHash: v.payloadHash, envelope }]);
  }

  event(
    id: string,
    type: string,
    subject: string,
    details: Record<string, string> = {},
    severity = 4,
  ): Promise<number> {
    return this.send(id, Stream.EVENTS, [
      {
        stream: Stream.EVENTS,
        event: { type, severity: severity as 4, tsMs: 1_764_150_000_000, subject, details },
      },
    ]);
  }

  report(id: string, kind: Report['kind'], body: unknown): Promise<number> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
    return this.send(id, Stream.REPORTS, [
      { stream: Stream.REPORTS, report: { kind, contentType: 'application/json', body: bytes } },
    ]);
  }

  private dev(id: string): SimDevice {
    const d = this.devices.get(id);
    if (!d) throw new Error(`no simulated device ${id}`);
    return d;
  }
}
