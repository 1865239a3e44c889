import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { Outbox } from '../../agent/src/buffer/index.js';
import {
  ClockQuality,
  type Sealer,
  Stream,
  type StreamItem,
  silentLogger,
  systemClock,
  systemRandom,
} from '../../agent/src/core/index.js';
import { Batcher } from '../../agent/src/pipeline/index.js';
import { seal } from '../../agent/src/telemetry/index.js';

/** A reading of about 100 bytes on the wire. */
export function benchReading(n: number): StreamItem {
  return {
    stream: Stream.TELEMETRY,
    reading: {
      sensorId: 'aq-7',
      tsMs: 1_764_150_000_000 + n,
      unit: 'ug/m3',
      value: { kind: 'number', value: n + 0.5 },
      labels: { site: 'north-cabinet-12', metric: 'pm2_5' },
    },
  };
}

export function benchSealer(
  deviceId: string,
  key: Parameters<typeof seal>[0]['signingKey'],
  keyId: string,
): Sealer {
  return (stream, items, head) =>
    seal(
      { deviceId, signingKey: key, keyId, nowMs: Date.now(), clock: ClockQuality.UNSYNCED },
      stream,
      items,
      head,
    );
}

export interface IngestFigures {
  ingest_readings_per_s: number;
  raw_sqlite_readings_per_s: number;
  ingest_vs_raw: number;
  event_loop_lag_p99_ms: number;
}

/**
 * Readings through the batcher, seal and commit (the agent's ingest path), and
 * the same envelope bytes inserted by bare better-sqlite3 with the same pragmas
 * and the same transaction size, in the same run.
 */
export async function benchIngest(
  dir: string,
  sealer: Sealer,
  total: number,
  batch: number,
  batchesPerTx: number,
): Promise<IngestFigures> {
  const ob = new Outbox({
    file: join(dir, 'ingest.db'),
    maxBytes: 4 * 1024 ** 3,
    minFreeBytes: 0,
    sealer,
    clock: systemClock,
    random: systemRandom,
    log: silentLogger(),
  });
  await ob.start();
  const envelopes: Uint8Array[] = [];
  const batcher = new Batcher({
    policies: {
      [Stream.TELEMETRY]: { maxItems: batch, maxDelayMs: 1000 },
      [Stream.EVENTS]: { maxItems: 1, maxDelayMs: 0 },
      [Stream.REPORTS]: { maxItems: 1, maxDelayMs: 0 },
    },
    commit: async (r) => {
      for (const b of await ob.append(r)) envelopes.push(b.envelope);
    },
    clock: systemClock,
    log: silentLogger(),
  });
  await batcher.start();
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const chunk = batch * batchesPerTx;
  const t0 = performance.now();
  for (let n = 0; n < total; n += chunk) {
    await batcher.submit(Array.from({ length: Math.min(chunk, total - n) }, (_, i) => benchReading(n + i)));
  }
  const ingestS = (performance.now() - t0) / 1000;
  lag.disable();
  await batcher.stop();
  await ob.stop();

  const raw = new Database(join(dir, 'raw.db'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.exec(
    'CREATE TABLE t (id INTEGER PRIMARY KEY, stream INTEGER, epoch INTEGER, seq INTEGER, created_ms INTEGER, items INTEGER, envelope BLOB)',
  );
  const ins = raw.prepare(
    'INSERT INTO t (stream, epoch, seq, created_ms, items, envelope) VALUES (1, 1, ?, ?, ?, ?)',
  );
  const tx = raw.transaction((rows: Uint8Array[], first: number) => {
    rows.forEach((e, i) => {
      ins.run(first + i, Date.now(), batch, e);
    });
  });
  const t1 = performance.now();
  for (let i = 0; i < envelopes.length; i += batchesPerTx) tx(envelopes.slice(i, i + batchesPerTx), i);
  const rawS = (performance.now() - t1) / 1000;
  raw.close();
  const ingest = total / ingestS;
  const rawRate = total / rawS;
  return {
    ingest_readings_per_s: Math.round(ingest),
    raw_sqlite_readings_per_s: Math.round(rawRate),
    ingest_vs_raw: round2(ingest / rawRate),
    event_loop_lag_p99_ms: round2(lag.percentile(99) / 1e6),
  };
}

export const round2 = (n: number) => Math.round(n * 100) / 100;
