import { statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import {
  type ChainHead,
  type Clock,
  type Logger,
  type Random,
  randomEpoch,
  type SealedBatch,
  type Sealer,
  type Service,
  STREAMS,
  Stream,
  type StreamItem,
  securityEvent,
  streamName,
} from '../core/index.js';
import { type Db, isCorruption, openDb, quarantine } from './db.js';
import { BufferError, BufferFullError } from './errors.js';
import { type EvictionRange, planEviction } from './eviction.js';

export interface OutboxOptions {
  /** Path of the SQLite file. */
  file: string;
  /** Byte budget: database plus WAL. */
  maxBytes: number;
  /** Free space to keep on the filesystem. */
  minFreeBytes: number;
  /** Seals the outbox's own notices (evictions, quarantine) into the events stream. */
  sealer: Sealer;
  clock: Clock;
  random: Random;
  log: Logger;
  /** Free bytes on the data filesystem; injectable for tests. */
  freeBytes?: (dir: string) => number;
}

/** One buffered batch handed to sync. */
export interface OutboxRow {
  stream: Stream;
  epoch: number;
  seq: number;
  envelope: Uint8Array;
  items: number;
}

/** A stored row with the time it was committed. */
export type StoredRow = OutboxRow & { createdMs: number };

/** Rows, bytes, items and the oldest commit time of a set of rows. */
export interface RowFigures {
  rows: number;
  bytes: number;
  items: number;
  oldestMs: number | null;
}

/** What one stream holds: `sent` rows were PUBACKed and await the collector's ack. */
export interface StreamStats {
  stream: string;
  lastSeq: number;
  pending: RowFigures;
  sent: RowFigures;
}

export interface AppendRequest {
  stream: Stream;
  items: StreamItem[];
}

const ZERO = new Uint8Array(32);
const defaultFree = (dir: string): number => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

/**
 * The store-and-forward outbox. A batch is *accepted* once `append` returns:
 * its row and the new chain position committed in one transaction. Rows leave
 * only through `ack` (the collector stored them) or eviction (with a notice).
 */
export class Outbox implements Service {
  readonly name = 'buffer';
  private db!: Db;
  private epochValue = 0;
  private readonly heads = new Map<Stream, ChainHead>();
  /** Highest seq removed as a prefix (acked, evicted, expired), per stream. */
  private readonly floors = new Map<Stream, number>();
  private startupNotices: StreamItem[] = [];
  /** Prepared statements by SQL text: preparing is costly and appends are the hot path. */
  private readonly stmts = new Map<string, Database.Statement>();
  private pageSize = 4096;

  constructor(private readonly opts: OutboxOptions) {}

  get epoch(): number {
    return this.epochValue;
  }

  async start(): Promise<void> {
    // The WAL counts against the budget and the disk: keep it small and truncated after checkpoints.
    const walLimit = Math.min(4 * 1024 * 1024, Math.max(256 * 1024, Math.floor(this.opts.maxBytes / 16)));
    try {
      this.db = openDb(this.opts.file, walLimit);
      this.loadState();
    } catch (e) {
      if (!isCorruption(e) && !(e instanceof BufferError && e.code === 'BUFFER_SCHEMA')) throw e;
      const aside = quarantine(this.opts.file, this.opts.clock.now());
      this.opts.log.error({ err: e, aside }, 'outbox database is corrupt: quarantined, starting a new epoch');
      this.db = openDb(this.opts.file, walLimit);
      this.loadState();
      this.startupNotices.push({
        stream: Stream.EVENTS,
        event: securityEvent(
          'buffer.quarantined',
          'outbox',
          { file: aside, reason: String((e as Error).message).slice(0, 200), epoch: String(this.epochValue) },
          this.opts.clock.now(),
        ),
      });
    }
    if (this.startupNotices.length > 0) {
      this.append([{ stream: Stream.EVENTS, items: this.startupNotices }]);
      this.startupNotices = [];
    }
  }

  async stop(): Promise<void> {
    if (this.db?.open) {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    }
  }

  private stmt<P extends unknown[] = unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    let st = this.stmts.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.stmts.set(sql, st);
    }
    return st as unknown as Database.Statement<P, R>;
  }

  private loadState(): void {
    this.stmts.clear();
    this.pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const get = this.stmt<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
    let epoch = get.get('epoch')?.value;
    if (epoch === undefined) {
      const rows = this.stmt<[], { n: number }>('SELECT count(*) AS n FROM outbox').get()?.n ?? 0;
      if (rows > 0) throw new BufferError('BUFFER_SCHEMA', 'outbox has rows but no epoch');
      epoch = String(randomEpoch(this.opts.random));
      this.stmt('INSERT INTO meta (key, value) VALUES (?, ?)').run('epoch', epoch);
    }
    this.epochValue = Number(epoch);
    this.heads.clear();
    for (const s of STREAMS) this.heads.set(s, { epoch: this.epochValue, seq: 0, prevHash: ZERO });
    const chain = this.db
      .prepare<[], { stream: Stream; seq: number; prev_hash: Buffer }>('SELECT * FROM chain')
      .all();
    for (const c of chain)
      this.heads.set(c.stream, { epoch: this.epochValue, seq: c.seq, prevHash: new Uint8Array(c.prev_hash) });
    for (const s of STREAMS) {
      const min = this.db
        .prepare<[number], { m: number | null }>('SELECT min(seq) AS m FROM outbox WHERE stream = ?')
        .get(s)?.m;
      this.floors.set(s, (min ?? this.head(s).seq + 1) - 1);
    }
  }

  /** Highest seq of `stream` removed as a prefix: nothing at or below it is stored. */
  floor(stream: Stream): number {
    return this.floors.get(stream) ?? 0;
  }

  private raiseFloor(stream: Stream, seq: number): void {
    if ((this.floors.get(stream) ?? 0) < seq) this.floors.set(stream, seq);
  }

  /** Where a stream's chain stands (the last committed batch). */
  head(stream: Stream): ChainHead {
    const h = this.heads.get(stream);
    if (!h) throw new BufferError('BUFFER_STREAM', `unknown stream ${stream}`);
    return h;
  }

  /** Bytes the outbox occupies now: live database pages plus the WAL file. */
  usedBytes(): number {
    const { pages, free } = this.stmt<[], { pages: number; free: number }>(
      'SELECT (SELECT page_count FROM pragma_page_count()) AS pages, (SELECT freelist_count FROM pragma_freelist_count()) AS free',
    ).get()!;
    const pageSize = this.pageSize;
    let wal = 0;
    try {
      wal = statSync(`${this.opts.file}-wal`).size;
    } catch {
      // No WAL yet.
    }
    return (pages - free) * pageSize + wal;
  }

  /**
   * Seals each request into a batch and commits them, with the new chain
   * positions and any eviction (plus its notice), in one transaction. Returns
   * after the commit: the batches are accepted. Never fails for budget reasons;
   * fails with BufferFullError only when the filesystem itself is full.
   */
  append(requests: AppendRequest[]): SealedBatch[] {
    const heads = new Map(this.heads);
    const sealAll = (reqs: AppendRequest[]): SealedBatch[] =>
      reqs
        .filter((r) => r.items.length > 0)
        .map((r) => {
          const b = this.opts.sealer(r.stream, r.items, heads.get(r.stream)!);
          heads.set(r.stream, { epoch: this.epochValue, seq: b.seq, prevHash: b.payloadHash });
          return b;
        });
    let batches = sealAll(requests);
    const incoming = batches.reduce((n, b) => n + b.envelope.length + 64, 0);
    const evictions = this.planFor(incoming);
    if (evictions.length > 0) {
      // Notices first, so the events chain records the loss before anything newer.
      heads.clear();
      for (const [k, v] of this.heads) heads.set(k, v);
      const notices = sealAll([{ stream: Stream.EVENTS, items: evictions.map((r) => this.notice(r)) }]);
      batches = [...notices, ...sealAll(requests)];
    }
    try {
      this.commit(batches, evictions);
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      if (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR')) {
        throw new BufferFullError(`the filesystem holding ${this.opts.file} is full: nothing was accepted`, {
          cause: e,
        });
      }
      throw e;
    }
    for (const [k, v] of heads) this.heads.set(k, v);
    for (const r of evictions) this.raiseFloor(r.stream, r.toSeq);
    if (evictions.length > 0) {
      this.opts.log.warn({ evictions }, 'outbox over budget: evicted oldest rows');
      if (evictions.some((r) => r.reason === 'disk_space')) this.giveBackSpace();
    }
    return batches;
  }

  private commit(batches: SealedBatch[], evictions: EvictionRange[]): void {
    const ins = this.stmt(
      'INSERT INTO outbox (stream, epoch, seq, created_ms, items, envelope) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const chain = this.stmt('INSERT OR REPLACE INTO chain (stream, seq, prev_hash) VALUES (?, ?, ?)');
    const del = this.stmt('DELETE FROM outbox WHERE stream = ? AND seq BETWEEN ? AND ?');
    const now = this.opts.clock.now();
    this.db.transaction(() => {
      for (const r of evictions) del.run(r.stream, r.fromSeq, r.toSeq);
      for (const b of batches) {
        ins.run(b.stream, b.epoch, b.seq, now, b.items, b.envelope);
        chain.run(b.stream, b.seq, b.payloadHash);
      }
    })();
  }

  /** Returns free pages and the WAL to the filesystem when it runs short. */
  private giveBackSpace(): void {
    try {
      this.db.pragma('incremental_vacuum');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (e) {
      this.opts.log.warn({ err: e }, 'could not give space back to the filesystem');
    }
  }

  private planFor(incoming: number): EvictionRange[] {
    const over = this.usedBytes() + incoming - this.opts.maxBytes;
    let free = Number.POSITIVE_INFINITY;
    try {
      free = (this.opts.freeBytes ?? defaultFree)(dirname(this.opts.file));
    } catch (e) {
      this.opts.log.warn({ err: e }, 'cannot read free space');
    }
    // Below the free-space threshold: release enough to get back above it (pages go back via incremental vacuum).
    const short = free - incoming < this.opts.minFreeBytes ? this.opts.minFreeBytes - free + 2 * incoming : 0;
    const need = Math.max(over, short);
    if (need <= 0) return [];
    const reason = over >= short ? 'budget' : 'disk_space';
    const rows = this.stmt<[number], { seq: number; size: number; items: number }>(
      'SELECT seq, length(envelope) + 64 AS size, items FROM outbox WHERE stream = ? ORDER BY seq',
    );
    return planEviction(
      need,
      [Stream.TELEMETRY, Stream.REPORTS, Stream.EVENTS],
      (s) => rows.iterate(s),
      reason,
    );
  }

  private notice(r: EvictionRange): StreamItem {
    return {
      stream: Stream.EVENTS,
      event: securityEvent(
        'buffer.evicted',
        streamName(r.stream),
        {
          stream: streamName(r.stream),
          epoch: String(this.epochValue),
          from_seq: String(r.fromSeq),
          to_seq: String(r.toSeq),
          count: String(r.rows),
          items: String(r.items),
          reason: r.reason,
        },
        this.opts.clock.now(),
      ),
    };
  }

  /** Deletes rows of `stream` up to `upToSeq` that the collector stored. Returns rows deleted. */
  ack(stream: Stream, epoch: number, upToSeq: number): number {
    if (epoch !== this.epochValue || !this.heads.has(stream)) return 0;
    const n = this.db
      .prepare('DELETE FROM outbox WHERE stream = ? AND seq <= ?')
      .run(stream, upToSeq).changes;
    this.raiseFloor(stream, Math.min(upToSeq, this.head(stream).seq));
    return n;
  }

  /**
   * Retention: evicts the rows of `stream` up to the newest one created before
   * `cutoffMs`, with a `buffer.evicted` notice (reason `retention`). Returns rows evicted.
   */
  expireOlderThan(stream: Stream, cutoffMs: number): number {
    const last = this.stmt<[number, number], { s: number | null }>(
      'SELECT max(seq) AS s FROM outbox WHERE stream = ? AND created_ms < ?',
    ).get(stream, cutoffMs)?.s;
    if (last === null || last === undefined) return 0;
    const r = this.stmt<[number, number], { f: number; n: number; i: number }>(
      'SELECT min(seq) AS f, count(*) AS n, sum(items) AS i FROM outbox WHERE stream = ? AND seq <= ?',
    ).get(stream, last)!;
    const range: EvictionRange = {
      stream,
      fromSeq: r.f,
      toSeq: last,
      rows: r.n,
      items: r.i,
      reason: 'retention',
    };
    const notice = this.opts.sealer(Stream.EVENTS, [this.notice(range)], this.head(Stream.EVENTS));
    this.commit([notice], [range]);
    this.heads.set(Stream.EVENTS, { epoch: this.epochValue, seq: notice.seq, prevHash: notice.payloadHash });
    this.raiseFloor(stream, last);
    this.opts.log.info({ range }, 'retention: evicted old unsent rows');
    return range.rows;
  }

  /** Deletes one row (ackMode "broker": PUBACK is taken as delivery). */
  ackOne(stream: Stream, epoch: number, seq: number): number {
    if (epoch !== this.epochValue) return 0;
    const n = this.stmt('DELETE FROM outbox WHERE stream = ? AND seq = ?').run(stream, seq).changes;
    return n;
  }

  /** Up to `limit` stored rows of `stream` with seq above `afterSeq`, in seq order. */
  read(stream: Stream, afterSeq: number, limit: number): StoredRow[] {
    const q = this.stmt<
      [number, number, number],
      { seq: number; epoch: number; envelope: Buffer; items: number; created_ms: number }
    >(
      'SELECT seq, epoch, envelope, items, created_ms FROM outbox WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    return q.all(stream, afterSeq, limit).map((r) => ({
      stream,
      epoch: r.epoch,
      seq: r.seq,
      envelope: r.envelope,
      items: r.items,
      createdMs: r.created_ms,
    }));
  }

  /**
   * The first `limit` stored rows, security events before reports before
   * telemetry, oldest first within a stream. Stateless: delivery state is sync's.
   */
  peek(limit: number): StoredRow[] {
    const out: StoredRow[] = [];
    for (const stream of STREAMS) {
      if (out.length >= limit) break;
      out.push(...this.read(stream, this.floor(stream), limit - out.length));
    }
    return out;
  }

  /**
   * Rows, bytes, items and oldest row per stream: `sent` is what `awaiting`
   * (sync's delivery state) reports as PUBACKed and waiting for the collector.
   */
  stats(awaiting?: (stream: Stream) => RowFigures): StreamStats[] {
    const q = this.stmt<
      [number],
      { rows: number; bytes: number | null; items: number | null; oldest: number | null }
    >(
      'SELECT count(*) AS rows, sum(length(envelope)) AS bytes, sum(items) AS items, min(created_ms) AS oldest FROM outbox WHERE stream = ?',
    );
    return STREAMS.map((stream) => {
      const all = q.get(stream)!;
      const sent = awaiting?.(stream) ?? { rows: 0, bytes: 0, items: 0, oldestMs: null };
      return {
        stream: streamName(stream),
        lastSeq: this.head(stream).seq,
        pending: {
          rows: all.rows - sent.rows,
          bytes: (all.bytes ?? 0) - sent.bytes,
          items: (all.items ?? 0) - sent.items,
          oldestMs: all.rows > sent.rows ? all.oldest : null,
        },
        sent,
      };
    });
  }

  /** Runs SQLite's full integrity check (doctor, tests). */
  integrityCheck(): string {
    return String(this.db.pragma('integrity_check', { simple: true }));
  }
}
