import { createHash, type KeyObject, sign } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ClockQuality, Stream } from '../../agent/src/core/index.js';
import { encodeBatch, encodeEnvelope } from '../../agent/src/telemetry/index.js';
import { benchReading } from './ingest.js';

/**
 * `raw_pipeline_readings_per_s`: a hand-written loop doing the agent's ingest
 * work and nothing else: per batch, the protobuf encode of the Batch, its
 * SHA-256 (the next batch's prev_hash), `crypto.sign`, the Envelope encode,
 * one row insert and the chain head update; `batchesPerTx` batches per
 * transaction, with the outbox's pragmas and table. No batcher, no outbox,
 * no event loop: what is left between this and the agent is its architecture.
 */
export function benchRawPipeline(
  dir: string,
  key: { privateKey: KeyObject; keyId: string },
  total: number,
  batch: number,
  batchesPerTx: number,
): { raw_pipeline_readings_per_s: number } {
  const db = new Database(join(dir, 'raw-pipeline.db'));
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('cache_size = -2000');
  db.exec(`
    CREATE TABLE chain (stream INTEGER PRIMARY KEY, seq INTEGER NOT NULL, prev_hash BLOB NOT NULL);
    CREATE TABLE outbox (id INTEGER PRIMARY KEY, stream INTEGER NOT NULL, epoch INTEGER NOT NULL,
      seq INTEGER NOT NULL, created_ms INTEGER NOT NULL, created_up INTEGER NOT NULL DEFAULT 0,
      items INTEGER NOT NULL, envelope BLOB NOT NULL);
    CREATE UNIQUE INDEX outbox_stream_seq ON outbox (stream, seq);`);
  const ins = db.prepare(
    'INSERT INTO outbox (stream, epoch, seq, created_ms, created_up, items, envelope) VALUES (?, 1, ?, ?, 0, ?, ?)',
  );
  const head = db.prepare('INSERT OR REPLACE INTO chain (stream, seq, prev_hash) VALUES (?, ?, ?)');
  let seq = 0;
  let prevHash: Uint8Array = new Uint8Array(32);
  const tx = db.transaction((first: number, n: number) => {
    for (let b = 0; b < n; b++) {
      const readings = [];
      for (let i = 0; i < batch; i++) {
        const it = benchReading(first + b * batch + i);
        if ('reading' in it) readings.push(it.reading);
      }
      seq++;
      const payload = encodeBatch({
        deviceId: 'bench-gw',
        stream: Stream.TELEMETRY,
        epoch: 1,
        seq,
        prevHash,
        createdAtMs: Date.now(),
        readings,
        events: [],
        clock: ClockQuality.UNSYNCED,
      });
      const signature = sign(null, payload, key.privateKey);
      const envelope = encodeEnvelope({ payload, signature, keyId: key.keyId });
      prevHash = createHash('sha256').update(payload).digest();
      ins.run(Stream.TELEMETRY, seq, Date.now(), batch, envelope);
      head.run(Stream.TELEMETRY, seq, prevHash);
    }
  });
  const chunk = batch * batchesPerTx;
  const t0 = performance.now();
  for (let n = 0; n < total; n += chunk) tx(n, Math.ceil(Math.min(chunk, total - n) / batch));
  const s = (performance.now() - t0) / 1000;
  db.close();
  return { raw_pipeline_readings_per_s: Math.round(total / s) };
}
