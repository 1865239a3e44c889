import type { Stream } from '../core/index.js';

/** A contiguous run of a stream's oldest rows chosen for eviction. */
export interface EvictionRange {
  stream: Stream;
  fromSeq: number;
  toSeq: number;
  rows: number;
  items: number;
  reason: 'budget' | 'disk_space' | 'retention';
}

/**
 * Chooses the oldest rows to drop until `need` bytes are freed, taking streams in
 * the given order (telemetry first, security events last). Each stream's rows
 * are a contiguous run (acks and evictions only ever remove a prefix), so one
 * range per stream describes the loss exactly.
 */
export function planEviction(
  need: number,
  order: Stream[],
  rowsOf: (s: Stream) => Iterable<{ seq: number; size: number; items: number }>,
  reason: EvictionRange['reason'],
): EvictionRange[] {
  const out: EvictionRange[] = [];
  let freed = 0;
  for (const stream of order) {
    if (freed >= need) break;
    let range: EvictionRange | undefined;
    for (const row of rowsOf(stream)) {
      if (freed >= need) break;
      range ??= { stream, fromSeq: row.seq, toSeq: row.seq, rows: 0, items: 0, reason };
      range.toSeq = row.seq;
      range.rows++;
      range.items += row.items;
      freed += row.size;
    }
    if (range) out.push(range);
  }
  return out;
}
