import { statfsSync } from 'node:fs';
import { STREAMS, Stream, type StreamItem, securityEvent, streamName } from '../core/index.js';

export const defaultFree = (dir: string): number => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

/**
 * Bytes to free before `incoming` bytes go in: past the byte budget, or below
 * the free-space threshold (enough to get back above it; pages go back to the
 * filesystem through incremental vacuum), whichever needs more.
 */
export function evictionNeed(
  used: number,
  incoming: number,
  maxBytes: number,
  free: number,
  minFree: number,
): { need: number; reason: 'budget' | 'disk_space' } {
  const over = used + incoming - maxBytes;
  const short = free - incoming < minFree ? minFree - free + 2 * incoming : 0;
  return { need: Math.max(over, short), reason: over >= short ? 'budget' : 'disk_space' };
}

/** A contiguous run of a stream's oldest rows chosen for eviction. */
export interface EvictionRange {
  stream: Stream;
  fromSeq: number;
  toSeq: number;
  rows: number;
  items: number;
  /**
   * `lost`: batches up to the high-water mark the database does not hold: committed and then lost, or
   * sealed for a commit a crash cut short (never answered as accepted; the mark goes before the commit);
   * `corrupt`: rows that failed their checksum at open, set aside unsent, or unsent in a file quarantined at run time.
   */
  reason: 'budget' | 'disk_space' | 'retention' | 'lost' | 'corrupt';
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

/**
 * What a file held unsent: each stream's range above its floor up to its last
 * committed seq. A file found bad at run time takes these rows with it, those
 * accepted between the corruption and its detection included, so each range is
 * reported exactly (reason `corrupt`, in the old epoch). Rows acked one by one
 * above the floor (ackMode broker) are counted in: over-reported, never missed.
 */
export function unsentRanges(
  floors: ReadonlyMap<Stream, number>,
  heads: ReadonlyMap<Stream, { seq: number }>,
): EvictionRange[] {
  return STREAMS.flatMap((stream) => {
    const floor = floors.get(stream) ?? 0;
    const head = heads.get(stream)?.seq ?? 0;
    return head > floor
      ? [
          {
            stream,
            fromSeq: floor + 1,
            toSeq: head,
            rows: head - floor,
            items: 0,
            reason: 'corrupt' as const,
          },
        ]
      : [];
  });
}

/** The `buffer.evicted` notice of one range: the platform matches it against its chain. */
export function evictionNotice(r: EvictionRange, epoch: number, nowMs: number): StreamItem {
  return {
    stream: Stream.EVENTS,
    event: securityEvent(
      'buffer.evicted',
      streamName(r.stream),
      {
        stream: streamName(r.stream),
        epoch: String(epoch),
        from_seq: String(r.fromSeq),
        to_seq: String(r.toSeq),
        count: String(r.rows),
        items: r.reason === 'lost' || r.reason === 'corrupt' ? 'unknown' : String(r.items),
        reason: r.reason,
      },
      nowMs,
    ),
  };
}

/** The `buffer.quarantined` notice: the bad file kept aside, and the new epoch. */
export function quarantineNotice(aside: string, err: unknown, epoch: number, nowMs: number): StreamItem {
  const reason = String((err as Error).message).slice(0, 200);
  return {
    stream: Stream.EVENTS,
    event: securityEvent(
      'buffer.quarantined',
      'outbox',
      { file: aside, reason, epoch: String(epoch) },
      nowMs,
    ),
  };
}
