import type { Stream } from '../../../agent/src/core/index.js';
import type { DecodedBatch } from '../../../agent/src/telemetry/index.js';
import type { Queryable } from './engine.js';

/** The chain rows one ingest transaction locks, reads and writes back. */
export interface ChainRef {
  device: string;
  stream: Stream;
  epoch: number;
}

export interface ChainState extends ChainRef {
  contiguous: number;
  highest: number;
  batches: number;
  explained: number;
  duplicates: number;
  conflicts: number;
  mismatches: number;
  /** Seqs stored by this transaction, with their payload hashes. */
  mine: Map<number, Uint8Array>;
  /** Payload hashes of seqs stored before, fetched for the prev_hash checks. */
  prior: Map<number, Uint8Array>;
}

export const keyOf = (c: ChainRef): string => `${c.device}\u0000${c.stream}\u0000${c.epoch}`;
export const cmp = (a: ChainRef, b: ChainRef): number =>
  a.device < b.device ? -1 : a.device > b.device ? 1 : a.stream - b.stream || a.epoch - b.epoch;
export const CHAIN = 'device_id = $1 AND stream = $2 AND epoch = $3';
export const refOf = (b: DecodedBatch): ChainRef => ({
  device: b.deviceId,
  stream: b.stream,
  epoch: b.epoch,
});
export const hex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const CHAIN_ARGS = '$1::text[], $2::int2[], $3::int8[]';

/**
 * Creates the chains that are new, then locks every row in the order given (ORDINALITY),
 * holding the locks until COMMIT.
 */
export async function lockAll(tx: Queryable, refs: ChainRef[]): Promise<Map<string, ChainState>> {
  const args = [refs.map((r) => r.device), refs.map((r) => r.stream), refs.map((r) => r.epoch)];
  await tx.query(
    `INSERT INTO chains (device_id, stream, epoch)
     SELECT d, s, e FROM unnest(${CHAIN_ARGS}) WITH ORDINALITY AS u(d, s, e, o) ORDER BY o
     ON CONFLICT DO NOTHING`,
    args,
  );
  const rows = await tx.query<{ d: string; s: number; e: number; contiguous: number; highest: number }>(
    `SELECT c.device_id AS d, c.stream AS s, c.epoch AS e, c.contiguous, c.highest
     FROM unnest(${CHAIN_ARGS}) WITH ORDINALITY AS u(d, s, e, o)
     JOIN chains c ON c.device_id = u.d AND c.stream = u.s AND c.epoch = u.e
     ORDER BY u.o FOR UPDATE OF c`,
    args,
  );
  const out = new Map<string, ChainState>();
  for (const r of rows) {
    const ref = { device: r.d, stream: Number(r.s) as Stream, epoch: Number(r.e) };
    out.set(keyOf(ref), {
      ...ref,
      contiguous: Number(r.contiguous),
      highest: Number(r.highest),
      batches: 0,
      explained: 0,
      duplicates: 0,
      conflicts: 0,
      mismatches: 0,
      mine: new Map(),
      prior: new Map(),
    });
  }
  return out;
}

/**
 * Fetches, in one statement, the payload hash of the seq before each given one (the first
 * new batch of each chain checks its link against it).
 */
export async function prefetchPrior(tx: Queryable, wanted: [ChainState, number][]): Promise<void> {
  if (wanted.length === 0) return;
  const rows = await tx.query<{ o: number; h: Uint8Array }>(
    `SELECT u.o, b.payload_hash AS h
     FROM unnest(${CHAIN_ARGS}, $4::int8[]) WITH ORDINALITY AS u(d, s, e, q, o)
     JOIN batches b ON b.device_id = u.d AND b.stream = u.s AND b.epoch = u.e AND b.seq = u.q`,
    [
      wanted.map(([c]) => c.device),
      wanted.map(([c]) => c.stream),
      wanted.map(([c]) => c.epoch),
      wanted.map(([, q]) => q),
    ],
  );
  for (const r of rows) {
    const [c, q] = wanted[Number(r.o) - 1];
    c.prior.set(q, r.h);
  }
}

/** Writes every chain row back in one statement (they are locked: the order does not matter). */
export async function writeChains(tx: Queryable, list: ChainState[]): Promise<void> {
  const col = <T>(f: (c: ChainState) => T) => list.map(f);
  await tx.query(
    `UPDATE chains c SET contiguous = u.contiguous, highest = u.highest, batches = c.batches + u.b,
       explained = c.explained + u.x, duplicates = c.duplicates + u.du, conflicts = c.conflicts + u.co,
       prev_hash_mismatches = c.prev_hash_mismatches + u.m, updated_at = now()
     FROM unnest(${CHAIN_ARGS}, $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8[],
       $10::int8[]) AS u(d, s, e, contiguous, highest, b, x, du, co, m)
     WHERE c.device_id = u.d AND c.stream = u.s AND c.epoch = u.e`,
    [
      col((c) => c.device),
      col((c) => c.stream),
      col((c) => c.epoch),
      col((c) => c.contiguous),
      col((c) => c.highest),
      col((c) => c.batches),
      col((c) => c.explained),
      col((c) => c.duplicates),
      col((c) => c.conflicts),
      col((c) => c.mismatches),
    ],
  );
}

export async function hashAt(
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
export async function advance(tx: Queryable, c: ChainState): Promise<void> {
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
