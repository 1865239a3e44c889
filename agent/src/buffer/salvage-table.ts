import type { Stream } from '../core/index.js';
import type { Db } from './db.js';
import type { SalvagedRow, WantedRange } from './salvage.js';

/** What the outbox holds of one old epoch's stream: salvaged rows still to deliver, up to its last sealed seq. */
export interface SalvageFigure {
  stream: Stream;
  epoch: number;
  /** The old epoch's last sealed seq: acks up to it are genuine. */
  head: number;
  rows: number;
  bytes: number;
  /** Lowest seq still held (0 when none). */
  low: number;
}

const key = (stream: number, epoch: number) => `${stream}/${epoch}`;

/**
 * The `salvaged` table of the outbox file: rows of older epochs read back from
 * a quarantined file, kept apart from `outbox` (whose seqs belong to the
 * current epoch) with their old epoch, seq and sealed envelope. They leave only
 * through a verified ack of their own epoch. Figures are kept in memory, read
 * once at open and moved with each commit.
 */
export class SalvageTable {
  private figures = new Map<string, SalvageFigure>();
  private changed = new Set<string>();

  constructor(private readonly db: Db) {
    const rows = db
      .prepare<[], { stream: Stream; epoch: number; head: number; rows: number; bytes: number; low: number }>(
        `SELECT h.stream, h.epoch, h.head, count(s.id) AS rows, coalesce(sum(length(s.envelope)), 0) AS bytes,
           coalesce(min(s.seq), 0) AS low
         FROM salvage_heads h LEFT JOIN salvaged s ON s.stream = h.stream AND s.epoch = h.epoch
         GROUP BY h.id ORDER BY h.id`,
      )
      .all();
    for (const r of rows) this.figures.set(key(r.stream, r.epoch), { ...r });
  }

  /** Stores rows salvaged from a quarantined file (inside the caller's transaction); a row kept before is ignored. */
  insertRows(rows: SalvagedRow[]): void {
    const ins = this.db.prepare(
      'INSERT OR IGNORE INTO salvaged (stream, epoch, seq, created_ms, items, envelope, crc) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    for (const r of rows) ins.run(r.stream, r.epoch, r.seq, r.createdMs, r.items, r.envelope, r.crc);
  }

  /** Records the ranges a salvage looked in (each old epoch's last seq dates its acks); figures follow at commit. */
  insertRanges(from: WantedRange[]): void {
    const head = this.db.prepare(
      'INSERT OR IGNORE INTO salvage_heads (stream, epoch, head) VALUES (?, ?, ?)',
    );
    for (const w of from) head.run(w.stream, w.epoch, w.toSeq);
    for (const w of from) this.changed.add(key(w.stream, w.epoch));
  }

  /** Deletes the salvaged rows of one old epoch's stream from..to (an ack of that epoch); returns rows deleted. */
  cut(stream: Stream, epoch: number, fromSeq: number, toSeq: number): number {
    if (!this.figures.has(key(stream, epoch))) return 0;
    const n = this.db
      .prepare('DELETE FROM salvaged WHERE stream = ? AND epoch = ? AND seq BETWEEN ? AND ?')
      .run(stream, epoch, fromSeq, toSeq).changes;
    if (n > 0) this.changed.add(key(stream, epoch));
    return n;
  }

  /** The transaction committed: figures of what it changed are read again (index ranges, not scans of the file). */
  committed(): void {
    const heads = this.db.prepare<[number, number], { head: number }>(
      'SELECT head FROM salvage_heads WHERE stream = ? AND epoch = ?',
    );
    const fig = this.db.prepare<[number, number], { rows: number; bytes: number; low: number }>(
      `SELECT count(*) AS rows, coalesce(sum(length(envelope)), 0) AS bytes, coalesce(min(seq), 0) AS low
       FROM salvaged WHERE stream = ? AND epoch = ?`,
    );
    for (const k of this.changed) {
      const [stream, epoch] = k.split('/').map(Number);
      const h = heads.get(stream, epoch);
      if (h)
        this.figures.set(k, { stream: stream as Stream, epoch, head: h.head, ...fig.get(stream, epoch)! });
    }
    this.changed.clear();
  }

  /** The transaction failed: nothing of it happened. */
  rolledBack(): void {
    this.changed.clear();
  }

  /** Oldest first; pairs with no rows left stay listed (their head still dates old acks). */
  list(): SalvageFigure[] {
    return [...this.figures.values()].map((f) => ({ ...f }));
  }

  /** The unsent seqs this file holds for older epochs: what a salvage of it looks for when it goes bad in turn. */
  wanted(): WantedRange[] {
    return this.list()
      .filter((f) => f.rows > 0)
      .map((f) => ({ stream: f.stream, epoch: f.epoch, fromSeq: f.low, toSeq: f.head }));
  }
}
