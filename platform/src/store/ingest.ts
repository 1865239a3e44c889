import { STREAMS, type Stream, type StreamName, streamByName } from '../../../agent/src/core/index.js';
import { type DecodedBatch, ZERO_HASH } from '../../../agent/src/telemetry/index.js';
import { storeContent } from './content.js';
import type { Engine, Queryable } from './engine.js';
import { type IngestItem, type IngestResult, zeroChainCounts } from './types.js';

interface ChainRef {
  device: string;
  stream: Stream;
  epoch: number;
}

interface ChainState extends ChainRef {
  contiguous: number;
  highest: number;
  batches: number;
  explained: number;
  duplicates: number;
  conflicts: number;
  mismatches: number;
  /** Seqs stored by this transaction, with their payload hashes. */
  mine: Map<number, Uint8Array>;
}

const keyOf = (c: ChainRef): string => `${c.device}\u0000${c.stream}\u0000${c.epoch}`;
const cmp = (a: ChainRef, b: ChainRef): number =>
  a.device < b.device ? -1 : a.device > b.device ? 1 : a.stream - b.stream || a.epoch - b.epoch;
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));
const CHAIN = 'device_id = $1 AND stream = $2 AND epoch = $3';

/** The eviction notices a batch carries, validated (anything malformed explains nothing). */
function evictionsOf(b: DecodedBatch): (ChainRef & { from: number; to: number; reason: string })[] {
  const out = [];
  for (const e of b.events) {
    if (e.type !== 'buffer.evicted') continue;
    const stream = streamByName[e.details.stream as StreamName];
    const from = Number(e.details.from_seq);
    const to = Number(e.details.to_seq);
    const epoch = Number(e.details.epoch);
    if (!STREAMS.includes(stream) || !Number.isSafeInteger(from) || !Number.isSafeInteger(to)) continue;
    if (epoch !== b.epoch || from < 1 || to < from) continue;
    out.push({ device: b.deviceId, stream, epoch, from, to, reason: e.details.reason ?? '' });
  }
  return out;
}

/**
 * Stores verified batches in one transaction. Every chain row involved is locked first,
 * in one global order (so two collectors never deadlock on each other's chains); each
 * batch is inserted once (ON CONFLICT DO NOTHING), a repeat with another payload hash
 * becomes an alert; the chain rows are written back before COMMIT. The caller acks
 * `heads` only after this resolves.
 */
export async function ingest(engine: Engine, items: IngestItem[]): Promise<IngestResult> {
  // Batches go in in arrival order (the `arrival` column keeps it: an alert sent before a
  // backlog is seen first); only the chain locks are taken in one global order.
  return engine.transaction(async (tx) => {
    const res: IngestResult = {
      stored: 0,
      ...zeroChainCounts(),
      heads: [],
      alerts: [],
    };
    const refs = new Map<string, ChainRef>();
    for (const it of items) {
      refs.set(keyOf(refOf(it.batch)), refOf(it.batch));
      for (const ev of evictionsOf(it.batch)) refs.set(keyOf(ev), ev);
    }
    const chains = new Map<string, ChainState>();
    for (const ref of [...refs.values()].sort(cmp)) chains.set(keyOf(ref), await lock(tx, ref));
    const alert = async (device: string, kind: string, detail: string) => {
      await tx.query('INSERT INTO alerts (device_id, kind, detail) VALUES ($1, $2, $3)', [
        device,
        kind,
        detail,
      ]);
      res.alerts.push(`${device}: ${kind} ${detail}`);
    };
    for (const { batch: b, keyId, payloadHash, envelope } of items) {
      const c = chains.get(keyOf(refOf(b))) as ChainState;
      const where = `stream ${b.stream} epoch ${b.epoch} seq ${b.seq}`;
      const inserted =
        b.seq > c.contiguous &&
        (
          await tx.query(
            `INSERT INTO batches (device_id, stream, epoch, seq, payload_hash, prev_hash, key_id, created_at,
               readings, events, envelope)
             VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8 / 1000.0), $9, $10, $11)
             ON CONFLICT DO NOTHING RETURNING seq`,
            [
              b.deviceId,
              b.stream,
              b.epoch,
              b.seq,
              payloadHash,
              b.prevHash,
              keyId,
              b.createdAtMs,
              b.readings.length,
              b.events.length,
              envelope,
            ],
          )
        ).length === 1;
      if (!inserted) {
        const old = c.mine.get(b.seq) ?? (await hashAt(tx, c, b.seq))?.hash;
        // Below the contiguous mark and pruned by retention: a resend of evidence already acked.
        if (!old || same(old, payloadHash)) {
          res.duplicates++;
          c.duplicates++;
        } else {
          res.conflicts++;
          c.conflicts++;
          await alert(b.deviceId, 'conflicting_duplicate', `${where} arrived again with another payload`);
        }
        continue;
      }
      const before =
        b.seq === 1 ? ZERO_HASH : (c.mine.get(b.seq - 1) ?? (await hashAt(tx, c, b.seq - 1))?.hash);
      if (before && !same(before, b.prevHash)) {
        res.prevHashMismatches++;
        c.mismatches++;
        await alert(b.deviceId, 'prev_hash_mismatch', where);
      }
      const after = b.seq < c.highest ? await hashAt(tx, c, b.seq + 1) : undefined;
      if (after && !same(after.prev, payloadHash)) {
        res.prevHashMismatches++;
        c.mismatches++;
        await alert(b.deviceId, 'prev_hash_mismatch', `stream ${b.stream} epoch ${b.epoch} seq ${b.seq + 1}`);
      }
      if (b.seq > c.highest + 1) res.gaps++;
      else if (b.seq < c.highest) res.reordered++;
      c.highest = Math.max(c.highest, b.seq);
      c.mine.set(b.seq, payloadHash);
      c.batches++;
      if (b.seq === c.contiguous + 1) c.contiguous = b.seq;
      await storeContent(tx, b);
      res.stored++;
      res.readings += b.readings.length;
      res.events += b.events.length;
      for (const ev of evictionsOf(b)) {
        const fresh = await tx.query(
          `INSERT INTO evictions (device_id, stream, epoch, from_seq, to_seq, reason)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING to_seq`,
          [ev.device, ev.stream, ev.epoch, ev.from, ev.to, ev.reason],
        );
        if (fresh.length === 0) continue;
        const t = chains.get(keyOf(ev)) as ChainState;
        t.explained += ev.to - ev.from + 1;
        t.highest = Math.max(t.highest, ev.to);
        if (ev.from <= t.contiguous + 1 && ev.to > t.contiguous) t.contiguous = ev.to;
        res.gapsExplained++;
      }
    }
    for (const c of chains.values()) {
      await advance(tx, c);
      await tx.query(
        `UPDATE chains SET contiguous = $4, highest = $5, batches = batches + $6, explained = explained + $7,
           duplicates = duplicates + $8, conflicts = conflicts + $9, prev_hash_mismatches = prev_hash_mismatches + $10,
           updated_at = now() WHERE ${CHAIN}`,
        [
          c.device,
          c.stream,
          c.epoch,
          c.contiguous,
          c.highest,
          c.batches,
          c.explained,
          c.duplicates,
          c.conflicts,
          c.mismatches,
        ],
      );
      if (c.contiguous > 0)
        res.heads.push({ device: c.device, stream: c.stream, epoch: c.epoch, upToSeq: c.contiguous });
    }
    return res;
  });
}

const refOf = (b: DecodedBatch): ChainRef => ({ device: b.deviceId, stream: b.stream, epoch: b.epoch });

/** Creates the chain's row if it is new, then holds its lock until COMMIT. */
async function lock(tx: Queryable, ref: ChainRef): Promise<ChainState> {
  const args = [ref.device, ref.stream, ref.epoch];
  await tx.query(
    'INSERT INTO chains (device_id, stream, epoch) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    args,
  );
  const [row] = await tx.query<{ contiguous: number; highest: number }>(
    `SELECT contiguous, highest FROM chains WHERE ${CHAIN} FOR UPDATE`,
    args,
  );
  return {
    ...ref,
    contiguous: Number(row.contiguous),
    highest: Number(row.highest),
    batches: 0,
    explained: 0,
    duplicates: 0,
    conflicts: 0,
    mismatches: 0,
    mine: new Map(),
  };
}

async function hashAt(
  tx: Queryable,
  c: ChainRef,
  seq: number,
): Promise<{ hash: Uint8Array; prev: Uint8Array } | undefined> {
  const [r] = await tx.query<{ payload_hash: Uint8Array; prev_hash: Uint8Array }>(
    `SELECT payload_hash, prev_hash FROM batches WHERE ${CHAIN} AND seq = $4`,
    [c.device, c.stream, c.epoch, seq],
  );
  return r ? { hash: r.payload_hash, prev: r.prev_hash } : undefined;
}

/** Moves the contiguous mark over stored seqs and seqs an eviction notice explains. */
async function advance(tx: Queryable, c: ChainState): Promise<void> {
  while (c.contiguous < c.highest) {
    const next = c.contiguous + 1;
    if (c.mine.has(next)) {
      c.contiguous = next;
      continue;
    }
    const [r] = await tx.query<{ b: number | null; e: number | null }>(
      `SELECT (SELECT seq FROM batches WHERE ${CHAIN} AND seq = $4) AS b,
              (SELECT max(to_seq) FROM evictions WHERE ${CHAIN} AND from_seq <= $4 AND to_seq >= $4) AS e`,
      [c.device, c.stream, c.epoch, next],
    );
    if (r.b !== null) c.contiguous = next;
    else if (r.e !== null) c.contiguous = Number(r.e);
    else break;
  }
}
