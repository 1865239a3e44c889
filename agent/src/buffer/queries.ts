import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { STREAMS, type Stream, streamName } from '../core/types.js';
import type { Db } from './db.js';
import type { EvictionRange } from './eviction.js';
import type { RowFigures, StoredRow, StreamStats } from './types.js';

/** Rows, bytes, items and the oldest commit time of everything one stream holds. */
export interface StreamTotals {
  rows: number;
  bytes: number;
  items: number;
  oldestMs: number | null;
}

/**
 * The outbox's queries over one open database, prepared once each: preparing
 * is costly and appends and reads are the hot path. Also used read-only by
 * `status` while the daemon is stopped.
 */
export class Queries {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly db: Db) {}

  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    let st = this.cache.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.cache.set(sql, st);
    }
    return st as unknown as Database.Statement<P, R>;
  }

  /**
   * The floor of `stream` once every row up to `toSeq` is gone: below the first
   * row still stored above it, else the head. Rows above may have been deleted
   * before; a floor left at `toSeq` would never be reached by a later cut again.
   */
  floorAbove(stream: Stream, toSeq: number, head: number): number {
    const next = this.prepare<[number, number], { seq: number }>(
      'SELECT seq FROM outbox WHERE stream = ? AND seq > ? ORDER BY seq LIMIT 1',
    ).get(stream, toSeq)?.seq;
    return next === undefined ? Math.max(toSeq, head) : next - 1;
  }

  /** Up to `limit` stored rows of `stream` with seq above `afterSeq`, in seq order. */
  rows(stream: Stream, afterSeq: number, limit: number): StoredRow[] {
    return this.prepare<
      [number, number, number],
      { seq: number; epoch: number; envelope: Buffer; items: number; created_ms: number }
    >(
      'SELECT seq, epoch, envelope, items, created_ms FROM outbox WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?',
    )
      .all(stream, afterSeq, limit)
      .map((r) => ({
        stream,
        epoch: r.epoch,
        seq: r.seq,
        envelope: r.envelope,
        items: r.items,
        createdMs: r.created_ms,
      }));
  }

  totals(stream: Stream): StreamTotals {
    const r = this.prepare<
      [number],
      { rows: number; bytes: number | null; items: number | null; oldest: number | null }
    >(
      'SELECT count(*) AS rows, sum(length(envelope)) AS bytes, sum(items) AS items, min(created_ms) AS oldest FROM outbox WHERE stream = ?',
    ).get(stream)!;
    return { rows: r.rows, bytes: r.bytes ?? 0, items: r.items ?? 0, oldestMs: r.oldest };
  }

  /** Rows, bytes and items of `stream` with seq in from..to: an index range, not a table scan. */
  range(stream: Stream, fromSeq: number, toSeq: number): Omit<StreamTotals, 'oldestMs'> {
    const r = this.prepare<
      [number, number, number],
      { rows: number; bytes: number | null; items: number | null }
    >(
      'SELECT count(*) AS rows, sum(length(envelope)) AS bytes, sum(items) AS items FROM outbox WHERE stream = ? AND seq BETWEEN ? AND ?',
    ).get(stream, fromSeq, toSeq)!;
    return { rows: r.rows, bytes: r.bytes ?? 0, items: r.items ?? 0 };
  }

  /** When the oldest stored row of `stream` was committed (wall clock, for display). */
  oldest(stream: Stream): number | null {
    return (
      this.prepare<[number], { c: number }>(
        'SELECT created_ms AS c FROM outbox WHERE stream = ? ORDER BY seq LIMIT 1',
      ).get(stream)?.c ?? null
    );
  }

  /** Each stored row of `stream`, oldest first, with its size counted against the budget. */
  sizes(stream: Stream): Iterable<{ seq: number; size: number; items: number }> {
    return this.prepare<[number], { seq: number; size: number; items: number }>(
      'SELECT seq, length(envelope) + 64 AS size, items FROM outbox WHERE stream = ? ORDER BY seq',
    ).iterate(stream);
  }

  /**
   * The uptime as of the last commit: the meta row, or the newest row's `created_up`
   * when later (append-only commits leave the meta row as it was). Rows are deleted
   * only by commits that save the meta row, so the newest row is never older than it.
   */
  uptime(): number {
    const meta = this.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'uptime_ms'").get();
    const newest = this.prepare<[], { up: number }>(
      'SELECT created_up AS up FROM outbox ORDER BY id DESC LIMIT 1',
    ).get()?.up;
    return Math.max(Number(meta?.value ?? 0), newest ?? 0);
  }

  /** Stores the uptime; an upsert updates the row in place (a REPLACE rewrites the key's index page too). */
  saveUptime(up: number): void {
    this.prepare<[number]>(
      "INSERT INTO meta (key, value) VALUES ('uptime_ms', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ).run(up);
  }

  /** Bytes the outbox occupies: live database pages plus the WAL file. */
  usedBytes(walFile: string, pageSize: number): number {
    let wal = 0;
    try {
      wal = statSync(walFile).size;
    } catch {
      // No WAL yet.
    }
    return this.livePages() * pageSize + wal;
  }

  /** Retention: the prefix of `stream` up to its last row committed before `cutoffUp` of uptime, or none. */
  expiry(stream: Stream, cutoffUp: number): EvictionRange | undefined {
    const last = this.prepare<[number, number], { s: number | null }>(
      'SELECT max(seq) AS s FROM outbox WHERE stream = ? AND created_up < ?',
    ).get(stream, cutoffUp)?.s;
    if (last === null || last === undefined) return undefined;
    const r = this.prepare<[number, number], { f: number; n: number; i: number }>(
      'SELECT min(seq) AS f, count(*) AS n, sum(items) AS i FROM outbox WHERE stream = ? AND seq <= ?',
    ).get(stream, last)!;
    return { stream, fromSeq: r.f, toSeq: last, rows: r.n, items: r.i, reason: 'retention' };
  }

  /** Pages in use (not on the free list). */
  livePages(): number {
    const { pages, free } = this.prepare<[], { pages: number; free: number }>(
      'SELECT (SELECT page_count FROM pragma_page_count()) AS pages, (SELECT freelist_count FROM pragma_freelist_count()) AS free',
    ).get()!;
    return pages - free;
  }
}

/** What each stream holds from the counters kept with each commit: `sent` is what `awaiting` reports as PUBACKed. */
export function streamStats(
  totals: ReadonlyMap<Stream, StreamTotals>,
  lastSeq: (stream: Stream) => number,
  awaiting?: (stream: Stream) => RowFigures,
): StreamStats[] {
  return STREAMS.map((stream) => {
    const all = totals.get(stream) ?? { rows: 0, bytes: 0, items: 0, oldestMs: null };
    const sent = awaiting?.(stream) ?? { rows: 0, bytes: 0, items: 0, oldestMs: null };
    return {
      stream: streamName(stream),
      lastSeq: lastSeq(stream),
      pending: {
        rows: all.rows - sent.rows,
        bytes: all.bytes - sent.bytes,
        items: all.items - sent.items,
        oldestMs: all.rows > sent.rows ? all.oldestMs : null,
      },
      sent,
    };
  });
}
