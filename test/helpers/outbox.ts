import { join } from 'node:path';
import { Outbox, type OutboxOptions } from '../../agent/src/buffer/index.js';
import {
  type Clock,
  ClockQuality,
  ManualClock,
  type Sealer,
  Stream,
  type StreamItem,
  silentLogger,
  systemRandom,
} from '../../agent/src/core/index.js';
import { KeyRing, seal } from '../../agent/src/telemetry/index.js';
import { testSigner } from './keys.js';

/** A sealer over a fresh key, and the key ring that verifies it. */
export function testSealer(
  deviceId = 'gw-test',
  clock: Clock = new ManualClock(),
): { sealer: Sealer; ring: KeyRing } {
  const s = testSigner();
  const ring = new KeyRing();
  ring.add(deviceId, s.raw);
  const sealer: Sealer = (stream, items, head) =>
    seal(
      { deviceId, signingKey: s.privateKey, keyId: s.keyId, nowMs: clock.now(), clock: ClockQuality.SYNCED },
      stream,
      items,
      head,
    );
  return { sealer, ring };
}

export function reading(n: number, size = 0): StreamItem {
  return {
    stream: Stream.TELEMETRY,
    reading: {
      sensorId: 'aq-7',
      tsMs: 1_764_150_000_000 + n,
      unit: 'ug/m3',
      value: { kind: 'number', value: n },
      labels: size ? { pad: 'x'.repeat(size) } : {},
    },
  };
}

export function event(n: number): StreamItem {
  return {
    stream: Stream.EVENTS,
    event: { type: 'test.event', severity: 1, tsMs: n, subject: `s${n}`, details: {} },
  };
}

export function report(n: number): StreamItem {
  return {
    stream: Stream.REPORTS,
    report: { kind: 'audit', contentType: 'application/json', body: Buffer.from(`{"n":${n}}`) },
  };
}

/** An outbox in `dir` with test defaults. */
export function makeOutbox(dir: string, over: Partial<OutboxOptions> = {}): Outbox {
  const clock = over.clock ?? new ManualClock();
  return new Outbox({
    file: join(dir, 'outbox.db'),
    maxBytes: 256 * 1024 * 1024,
    minFreeBytes: 0,
    sealer: over.sealer ?? testSealer('gw-test', clock).sealer,
    clock,
    random: systemRandom,
    log: silentLogger(),
    ...over,
  });
}

/**
 * The seqs a quarantine reported lost in `epoch` (its `buffer.evicted` notices, each checked
 * to be of that epoch with reason `corrupt`), every seq of every range, in order.
 */
export function corruptSeqs(
  events: { type: string; details: Record<string, string> }[],
  epoch: number,
): number[] {
  const lost = events.filter((e) => e.type === 'buffer.evicted');
  for (const e of lost) {
    if (e.details.epoch !== String(epoch) || e.details.reason !== 'corrupt')
      throw new Error(`a notice of another epoch or reason: ${JSON.stringify(e.details)}`);
  }
  return lost.flatMap((e) =>
    Array.from(
      { length: Number(e.details.to_seq) - Number(e.details.from_seq) + 1 },
      (_, i) => Number(e.details.from_seq) + i,
    ),
  );
}
