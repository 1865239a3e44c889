import type { Stream } from '../core/index.js';
import type { OutboxRow } from './outbox.js';

/**
 * The volatile delivery state of the outbox: which rows are out (handed to
 * sync) and which were PUBACKed. Kept in memory on purpose: after a restart
 * every unacked row is due again, and the collector stores each batch once.
 */
export class DeliveryState {
  /** Highest seq handed out, per stream (sending is go-back-N). */
  readonly cursor = new Map<Stream, number>();
  /** PUBACKed rows awaiting the collector's ack. */
  readonly sent = new Map<
    Stream,
    Map<number, { bytes: number; items: number; createdMs: number; at: number }>
  >();

  /** Highest seq known gone (acked or evicted), per stream: a late PUBACK below it changes nothing. */
  private readonly floor = new Map<Stream, number>();

  reset(stream: Stream, firstSeq: number): void {
    this.cursor.set(stream, firstSeq - 1);
    this.sent.set(stream, new Map());
    this.floor.set(stream, firstSeq - 1);
  }

  markSent(row: OutboxRow & { createdMs: number }, at: number): void {
    if (row.seq <= (this.floor.get(row.stream) ?? 0)) return;
    this.sent
      .get(row.stream)
      ?.set(row.seq, { bytes: row.envelope.length, items: row.items, createdMs: row.createdMs, at });
  }

  /** A publish failed or timed out: hand this row (and those after it) out again. */
  release(stream: Stream, seq: number): void {
    const c = this.cursor.get(stream);
    if (c !== undefined && c >= seq) this.cursor.set(stream, seq - 1);
    this.sent.get(stream)?.delete(seq);
  }

  /** One row is gone; the cursor is left alone. */
  dropOne(stream: Stream, seq: number): void {
    this.sent.get(stream)?.delete(seq);
  }

  /** Rows up to `seq` are gone (acked or evicted). */
  dropThrough(stream: Stream, seq: number): void {
    const sent = this.sent.get(stream);
    if (sent) for (const s of sent.keys()) if (s <= seq) sent.delete(s);
    if ((this.cursor.get(stream) ?? 0) < seq) this.cursor.set(stream, seq);
    if ((this.floor.get(stream) ?? 0) < seq) this.floor.set(stream, seq);
  }

  /** PUBACKed rows whose ack did not come within `timeoutMs`: due again. Returns how many. */
  expire(now: number, timeoutMs: number): number {
    let n = 0;
    for (const [stream, sent] of this.sent) {
      let lowest = Number.POSITIVE_INFINITY;
      for (const [seq, s] of sent) if (now - s.at >= timeoutMs) lowest = Math.min(lowest, seq);
      if (lowest === Number.POSITIVE_INFINITY) continue;
      for (const seq of [...sent.keys()]) {
        if (seq >= lowest) {
          sent.delete(seq);
          n++;
        }
      }
      this.release(stream, lowest);
    }
    return n;
  }
}
