import type { Stream } from '../core/index.js';
import type { SalvageFigure } from './salvage-table.js';
import type { StoredRow } from './types.js';

const key = (stream: Stream, epoch: number) => `${stream}/${epoch}`;

/**
 * The main thread's view of the rows salvaged from quarantined files (the
 * `salvaged` table): sealed in an old epoch, they are delivered beside the new
 * one, each stream's oldest old epoch first, so that within what is delivered
 * a row is named by (stream, seq) as the delivery ledger keys rows. An ack of
 * an old epoch deletes only rows this queue holds, up to that epoch's last seq.
 */
export class SalvageQueue {
  private figures: SalvageFigure[] = [];
  /** Highest seq acked per stream and old epoch: the delete commits in the worker, readers skip them now. */
  private readonly floors = new Map<string, number>();

  constructor(
    private readonly rows: (stream: Stream, epoch: number, after: number, limit: number) => StoredRow[],
  ) {}

  absorb(figures: SalvageFigure[]): void {
    this.figures = figures;
  }

  /** The old epoch of `stream` being delivered: the oldest with rows left. */
  epochOf(stream: Stream): number | undefined {
    return this.figures.find((f) => f.stream === stream && f.rows > 0)?.epoch;
  }

  /** The last seq sealed in `epoch` of `stream` while rows of it are held, else undefined (acks of it are refused). */
  head(stream: Stream, epoch: number): number | undefined {
    return this.figures.find((f) => f.stream === stream && f.epoch === epoch && f.rows > 0)?.head;
  }

  /** Salvaged rows of `stream` in its current old epoch, above `afterSeq`. */
  read(stream: Stream, afterSeq: number, limit: number): StoredRow[] {
    const epoch = this.epochOf(stream);
    return epoch === undefined ? [] : this.rows(stream, epoch, Math.max(afterSeq, this.floor(stream)), limit);
  }

  floor(stream: Stream): number {
    const epoch = this.epochOf(stream);
    return epoch === undefined ? 0 : (this.floors.get(key(stream, epoch)) ?? 0);
  }

  /** An ack of old `epoch` from..to: false when nothing of it is held (the ack is for nothing here). */
  cut(stream: Stream, epoch: number, fromSeq: number, toSeq: number): boolean {
    if (this.head(stream, epoch) === undefined) return false;
    const k = key(stream, epoch);
    if (fromSeq <= (this.floors.get(k) ?? 0) + 1)
      this.floors.set(k, Math.max(this.floors.get(k) ?? 0, toSeq));
    return true;
  }

  /** Rows and bytes still to deliver, over every old epoch. */
  held(): { rows: number; bytes: number } {
    return this.figures.reduce((t, f) => ({ rows: t.rows + f.rows, bytes: t.bytes + f.bytes }), {
      rows: 0,
      bytes: 0,
    });
  }
}
