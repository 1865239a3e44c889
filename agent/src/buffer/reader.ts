import Database from 'better-sqlite3';
import type { Stream } from '../core/index.js';
import { Queries } from './queries.js';
import type { StoredRow } from './types.js';

/**
 * The main thread's read-only connection to the outbox: reads never sync, so
 * the drain reads rows here without a round trip to the worker, which alone writes.
 */
export class OutboxReader {
  private db: Database.Database | undefined;
  private q: Queries | undefined;

  open(file: string): void {
    this.close();
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.q = new Queries(this.db);
  }

  /** Up to `limit` rows of `stream` above `afterSeq`; none while closed (the worker is restarting). */
  rows(stream: Stream, afterSeq: number, limit: number): StoredRow[] {
    return this.q ? this.q.rows(stream, afterSeq, limit) : [];
  }

  /** Up to `limit` rows salvaged from a quarantined file, of `stream` in old epoch `epoch`, above `afterSeq`. */
  salvaged(stream: Stream, epoch: number, afterSeq: number, limit: number): StoredRow[] {
    if (!this.q) return [];
    return this.q
      .prepare<
        [number, number, number, number],
        { seq: number; envelope: Buffer; items: number; created_ms: number }
      >(
        'SELECT seq, envelope, items, created_ms FROM salvaged WHERE stream = ? AND epoch = ? AND seq > ? ORDER BY seq LIMIT ?',
      )
      .all(stream, epoch, afterSeq, limit)
      .map((r) => ({
        stream,
        epoch,
        seq: r.seq,
        envelope: r.envelope,
        items: r.items,
        createdMs: r.created_ms,
      }));
  }

  integrityCheck(): string {
    if (!this.db) return 'closed';
    return String(this.db.pragma('integrity_check', { simple: true }));
  }

  close(): void {
    if (this.db?.open) this.db.close();
    this.db = undefined;
    this.q = undefined;
  }
}
