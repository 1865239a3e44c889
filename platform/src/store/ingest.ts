import { STREAMS, type Stream, type StreamName, streamByName } from '../../../agent/src/core/index.js';
import { type DecodedBatch, ZERO_HASH } from '../../../agent/src/telemetry/index.js';
import {
  advance,
  type ChainRef,
  type ChainState,
  cmp,
  hashAt,
  hex,
  keyOf,
  lockAll,
  prefetchPrior,
  refOf,
  writeChains,
} from './chains.js';
import { storeContents } from './content.js';
import type { Engine, Queryable } from './engine.js';
import { type IngestItem, type IngestResult, zeroChainCounts } from './types.js';

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

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
    // Another epoch of the same device is allowed: a file quarantined at run time is reported from the new one.
    if (!Number.isSafeInteger(epoch) || from < 1 || to < from) continue;
    out.push({ device: b.deviceId, stream, epoch, from, to, reason: e.details.reason ?? '' });
  }
  return out;
}

/**
 * Stores verified batches in one transaction. Every chain row involved is locked first,
 * in one global order (so two collectors never deadlock on each other's chains); the new
 * batches go in with one statement (ON CONFLICT DO NOTHING), a repeat with another payload
 * hash becomes an alert; their readings and events go in with one statement each; the
 * chain rows are written back before COMMIT. The caller acks `heads` only after this
 * resolves. Round trips per transaction, not per batch: that is what a collector waits on.
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
    const chains = await lockAll(tx, [...refs.values()].sort(cmp));
    const chainOf = (b: DecodedBatch) => chains.get(keyOf(refOf(b))) as ChainState;
    const alert = async (device: string, kind: string, detail: string) => {
      await tx.query('INSERT INTO alerts (device_id, kind, detail) VALUES ($1, $2, $3)', [
        device,
        kind,
        detail,
      ]);
      res.alerts.push(`${device}: ${kind} ${detail}`);
    };
    const fresh = await insertBatches(tx, items, chainOf);
    for (const it of fresh) chainOf(it.batch).mine.set(it.batch.seq, it.payloadHash);
    const wanted: [ChainState, number][] = [];
    for (const it of fresh) {
      const c = chainOf(it.batch);
      const q = it.batch.seq - 1;
      if (q > 0 && !c.mine.has(q)) wanted.push([c, q]);
    }
    await prefetchPrior(tx, wanted);
    const stored: DecodedBatch[] = [];
    for (const it of items) {
      const { batch: b, payloadHash } = it;
      const c = chainOf(b);
      const where = `stream ${b.stream} epoch ${b.epoch} seq ${b.seq}`;
      if (!fresh.has(it)) {
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
      const before = b.seq === 1 ? ZERO_HASH : (c.mine.get(b.seq - 1) ?? c.prior.get(b.seq - 1));
      if (before && !same(before, b.prevHash)) {
        res.prevHashMismatches++;
        c.mismatches++;
        await alert(b.deviceId, 'prev_hash_mismatch', where);
      }
      // A successor stored by this transaction checks this link itself (as `before`).
      const after = b.seq < c.highest && !c.mine.has(b.seq + 1) ? await hashAt(tx, c, b.seq + 1) : undefined;
      if (after && !same(after.prev, payloadHash)) {
        res.prevHashMismatches++;
        c.mismatches++;
        await alert(b.deviceId, 'prev_hash_mismatch', `stream ${b.stream} epoch ${b.epoch} seq ${b.seq + 1}`);
      }
      if (b.seq > c.highest + 1) res.gaps++;
      else if (b.seq < c.highest) res.reordered++;
      c.highest = Math.max(c.highest, b.seq);
      c.batches++;
      if (b.seq === c.contiguous + 1) c.contiguous = b.seq;
      stored.push(b);
      res.stored++;
      res.readings += b.readings.length;
      res.events += b.events.length;
      for (const ev of evictionsOf(b)) {
        const added = await tx.query(
          `INSERT INTO evictions (device_id, stream, epoch, from_seq, to_seq, reason)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING to_seq`,
          [ev.device, ev.stream, ev.epoch, ev.from, ev.to, ev.reason],
        );
        if (added.length === 0) continue;
        const t = chains.get(keyOf(ev)) as ChainState;
        t.explained += ev.to - ev.from + 1;
        t.highest = Math.max(t.highest, ev.to);
        if (ev.from <= t.contiguous + 1 && ev.to > t.contiguous) t.contiguous = ev.to;
        res.gapsExplained++;
      }
    }
    await storeContents(tx, stored);
    for (const c of chains.values()) {
      await advance(tx, c);
      if (c.contiguous > 0)
        res.heads.push({ device: c.device, stream: c.stream, epoch: c.epoch, upToSeq: c.contiguous });
    }
    await writeChains(tx, [...chains.values()]);
    return res;
  });
}

/**
 * Inserts, in one statement and in arrival order, every batch above its chain's contiguous
 * mark (the first of any seq given twice); returns those the store did not hold yet.
 */
async function insertBatches(
  tx: Queryable,
  items: IngestItem[],
  chainOf: (b: DecodedBatch) => ChainState,
): Promise<Set<IngestItem>> {
  const seen = new Map<string, IngestItem>();
  for (const it of items) {
    const k = `${keyOf(refOf(it.batch))}\u0000${it.batch.seq}`;
    if (it.batch.seq > chainOf(it.batch).contiguous && !seen.has(k)) seen.set(k, it);
  }
  const list = [...seen.values()];
  if (list.length === 0) return new Set();
  const col = <T>(f: (it: IngestItem) => T) => list.map(f);
  const rows = await tx.query<{ d: string; s: number; e: number; q: number }>(
    `INSERT INTO batches (device_id, stream, epoch, seq, payload_hash, prev_hash, key_id, created_at,
       readings, events, envelope)
     SELECT d, s, e, q, decode(h, 'hex'), decode(p, 'hex'), k, to_timestamp(t / 1000.0), r, v, decode(x, 'hex')
     FROM unnest($1::text[], $2::int2[], $3::int8[], $4::int8[], $5::text[], $6::text[], $7::text[],
       $8::float8[], $9::int4[], $10::int4[], $11::text[]) WITH ORDINALITY AS u(d, s, e, q, h, p, k, t, r, v, x, o)
     ORDER BY o
     ON CONFLICT DO NOTHING RETURNING device_id AS d, stream AS s, epoch AS e, seq AS q`,
    [
      col((it) => it.batch.deviceId),
      col((it) => it.batch.stream),
      col((it) => it.batch.epoch),
      col((it) => it.batch.seq),
      col((it) => hex(it.payloadHash)),
      col((it) => hex(it.batch.prevHash)),
      col((it) => it.keyId),
      col((it) => it.batch.createdAtMs),
      col((it) => it.batch.readings.length),
      col((it) => it.batch.events.length),
      col((it) => hex(it.envelope)),
    ],
  );
  const out = new Set<IngestItem>();
  for (const r of rows) {
    const ref = { device: r.d, stream: Number(r.s) as Stream, epoch: Number(r.e) };
    out.add(seen.get(`${keyOf(ref)}\u0000${Number(r.q)}`) as IngestItem);
  }
  return out;
}
