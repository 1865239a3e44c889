import { statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import {
  type ChainHead,
  randomEpoch,
  type SealedBatch,
  type Service,
  STREAMS,
  Stream,
  type StreamItem,
  securityEvent,
  streamName,
} from '../core/index.js';
import { type Db, isCorruption, openDb, quarantine } from './db.js';
import { BufferError, BufferFullError } from './errors.js';
import { type EvictionRange, evictionNotice, planEviction } from './eviction.js';
import { HighWaterMark, lostRanges } from './high-water.js';
import { Queries } from './queries.js';
import type { AppendRequest, OutboxOptions, RowFigures, StoredRow, StreamStats } from './types.js';

export type { AppendRequest, OutboxOptions, OutboxRow, RowFigures, StoredRow, StreamStats } from './types.js';

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
  private q!: Queries;
  private pageSize = 4096;
  private hwm!: HighWaterMark;
  /** Uptime persisted at open, and the monotonic clock then: ages of rows never use the wall clock. */
  private upBase = 0;
  private monoAtOpen = 0;

  constructor(private readonly opts: OutboxOptions) {}

  get epoch(): number {
    return this.epochValue;
  }

  async start(): Promise<void> {
    // The WAL counts against the budget and the disk: keep it small and truncated after checkpoints.
    const walLimit = Math.min(4 * 1024 * 1024, Math.max(256 * 1024, Math.floor(this.opts.maxBytes / 16)));
    this.hwm = new HighWaterMark(`${this.opts.file}.hwm`);
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
      this.saveUptime.run(this.uptime());
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    }
    this.hwm?.close();
  }

  /**
   * How long this outbox has been open, summed over every run, in ms: the
   * clock of row ages. Time with the agent stopped does not count, so a row
   * can only look younger than it is, never older.
   */
  uptime(): number {
    return this.upBase + Math.max(0, this.opts.clock.monotonic() - this.monoAtOpen);
  }

  private get saveUptime(): Database.Statement<[number]> {
    return this.stmt<[number]>("INSERT OR REPLACE INTO meta (key, value) VALUES ('uptime_ms', ?)");
  }

  private stmt<P extends unknown[] = unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    return this.q.prepare<P, R>(sql);
  }

  private loadState(): void {
    this.q = new Queries(this.db);
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
    this.upBase = Number(get.get('uptime_ms')?.value ?? 0);
    this.monoAtOpen = this.opts.clock.monotonic();
    this.heads.clear();
    for (const s of STREAMS) this.heads.set(s, { epoch: this.epochValue, seq: 0, prevHash: ZERO });
    const chain = this.db
      .prepare<[], { stream: Stream; seq: number; prev_hash: Buffer }>('SELECT * FROM chain')
      .all();
    for (const c of chain)
      this.heads.set(c.stream, { epoch: this.epochValue, seq: c.seq, prevHash: new Uint8Array(c.prev_hash) });
    this.checkHighWater();
    for (const s of STREAMS) this.floors.set(s, (this.q.rows(s, 0, 1)[0]?.seq ?? this.head(s).seq + 1) - 1);
  }

  /**
   * Batches sealed and committed but missing now (the WAL lost its tail): the
   * heads move up to the mark so those seqs are never reused, and each loss
   * is reported as an exact range in an eviction notice (reason `lost`).
   */
  private checkHighWater(): void {
    const hw = this.hwm.read();
    if (!hw || hw.epoch !== this.epochValue) return;
    const chain = this.stmt('INSERT OR REPLACE INTO chain (stream, seq, prev_hash) VALUES (?, ?, ?)');
    for (const range of lostRanges(hw, (s) => this.head(s).seq)) {
      this.opts.log.error(
        { range },
        'the outbox lost committed batches (its WAL is damaged): reporting them lost',
      );
      const head = this.head(range.stream);
      chain.run(range.stream, range.toSeq, Buffer.from(head.prevHash));
      this.heads.set(range.stream, { ...head, seq: range.toSeq });
      this.startupNotices.push(this.notice(range));
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
    let wal = 0;
    try {
      wal = statSync(`${this.opts.file}-wal`).size;
    } catch {
      // No WAL yet.
    }
    return this.q.livePages() * this.pageSize + wal;
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
      'INSERT INTO outbox (stream, epoch, seq, created_ms, created_up, items, envelope) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const chain = this.stmt('INSERT OR REPLACE INTO chain (stream, seq, prev_hash) VALUES (?, ?, ?)');
    const del = this.stmt('DELETE FROM outbox WHERE stream = ? AND seq BETWEEN ? AND ?');
    const now = this.opts.clock.now();
    const up = this.uptime();
    this.db.transaction(() => {
      for (const r of evictions) del.run(r.stream, r.fromSeq, r.toSeq);
      for (const b of batches) {
        ins.run(b.stream, b.epoch, b.seq, now, up, b.items, b.envelope);
        chain.run(b.stream, b.seq, b.payloadHash);
      }
      this.saveUptime.run(up);
    })();
    if (batches.length > 0) {
      const seqs = new Map(this.heads);
      for (const b of batches)
        seqs.set(b.stream, { epoch: this.epochValue, seq: b.seq, prevHash: b.payloadHash });
      try {
        this.hwm.write(this.epochValue, (s) => seqs.get(s)?.seq ?? 0);
      } catch (e) {
        // The batches are committed all the same; a stale mark can only miss a later loss, never invent one.
        this.opts.log.warn({ err: e }, 'cannot update the high-water mark');
      }
    }
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
    return evictionNotice(r, this.epochValue, this.opts.clock.now());
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
   * Retention: evicts the rows of `stream` up to the newest one older than
   * `maxAgeMs` of uptime, with a `buffer.evicted` notice (reason `retention`).
   * Ages are monotonic: a wall-clock jump never makes a row old. Returns rows evicted.
   */
  expireOlderThan(stream: Stream, maxAgeMs: number): number {
    const cutoff = this.uptime() - maxAgeMs;
    if (cutoff <= 0) return 0;
    const last = this.stmt<[number, number], { s: number | null }>(
      'SELECT max(seq) AS s FROM outbox WHERE stream = ? AND created_up < ?',
    ).get(stream, cutoff)?.s;
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
    return this.q.rows(stream, afterSeq, limit);
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
    return STREAMS.map((stream) => {
      const all = this.q.totals(stream);
      const sent = awaiting?.(stream) ?? { rows: 0, bytes: 0, items: 0, oldestMs: null };
      return {
        stream: streamName(stream),
        lastSeq: this.head(stream).seq,
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

  /** Runs SQLite's full integrity check (doctor, tests). */
  integrityCheck(): string {
    return String(this.db.pragma('integrity_check', { simple: true }));
  }
}
