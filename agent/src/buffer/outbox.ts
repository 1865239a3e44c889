import { statSync } from 'node:fs';
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
  streamName,
} from '../core/index.js';
import { type Db, giveBackSpace, isCorruption, openDb, quarantine } from './db.js';
import { BufferError, commitFailure } from './errors.js';
import {
  defaultFree,
  type EvictionRange,
  evictionNeed,
  evictionNotice,
  planEviction,
  quarantineNotice,
} from './eviction.js';
import { HighWaterMark, lostRanges } from './high-water.js';
import { Queries } from './queries.js';
import { damagedRowNotices, rowCrc } from './row-check.js';
import type { AppendRequest, OutboxOptions, RowFigures, StoredRow, StreamStats } from './types.js';

export type { AppendRequest, OutboxOptions, OutboxRow, RowFigures, StoredRow, StreamStats } from './types.js';

const ZERO = new Uint8Array(32);

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
  /** What each stream holds, kept with every commit and delete: `status` never scans the table. */
  private readonly totals = new Map<Stream, { rows: number; bytes: number; items: number }>();
  private pageSize = 4096;
  private hwm!: HighWaterMark;
  /** Uptime persisted at open, and the monotonic clock then: ages of rows never use the wall clock. */
  private upBase = 0;
  private monoAtOpen = 0;
  /** Heads raised over a lost range, written with the commit of its notice: never one without the other. */
  private pendingRaises: { stream: Stream; seq: number; prevHash: Uint8Array }[] = [];

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
      this.startupNotices.push(quarantineNotice(aside, e, this.epochValue, this.opts.clock.now()));
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

  /** Ms this outbox has been open, summed over runs: the clock of row ages (a row never looks older than it is). */
  uptime(): number {
    return this.upBase + Math.max(0, this.opts.clock.monotonic() - this.monoAtOpen);
  }

  private get saveUptime(): Database.Statement<[number]> {
    return this.q.prepare<[number]>("INSERT OR REPLACE INTO meta (key, value) VALUES ('uptime_ms', ?)");
  }

  private loadState(): void {
    this.q = new Queries(this.db);
    this.pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const get = this.q.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
    let epoch = get.get('epoch')?.value;
    if (epoch === undefined) {
      const rows = this.q.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox').get()?.n ?? 0;
      if (rows > 0) throw new BufferError('BUFFER_SCHEMA', 'outbox has rows but no epoch');
      epoch = String(randomEpoch(this.opts.random));
      this.q.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('epoch', epoch);
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
    this.startupNotices.push(...damagedRowNotices(this.db, this.epochValue, this.opts));
    for (const s of STREAMS) {
      this.floors.set(s, (this.q.rows(s, 0, 1)[0]?.seq ?? this.head(s).seq + 1) - 1);
      this.totals.set(s, this.q.totals(s));
    }
  }

  /**
   * Batches sealed and committed but missing now (the WAL lost its tail): the
   * heads move up to the mark so those seqs are never reused, and each loss
   * is reported as an exact range in an eviction notice (reason `lost`).
   */
  private checkHighWater(): void {
    this.pendingRaises = [];
    const hw = this.hwm.read();
    if (!hw || hw.epoch !== this.epochValue) return;
    for (const range of lostRanges(hw, (s) => this.head(s).seq)) {
      this.opts.log.error(
        { range },
        'the outbox lost committed batches (its WAL is damaged): reporting them lost',
      );
      const head = this.head(range.stream);
      // Not written yet: a crash (or full disk) before the notice commits must find the loss again at next start.
      this.pendingRaises.push({ stream: range.stream, seq: range.toSeq, prevHash: head.prevHash });
      this.heads.set(range.stream, { ...head, seq: range.toSeq });
      this.startupNotices.push(evictionNotice(range, this.epochValue, this.opts.clock.now()));
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
      const notices = sealAll([
        {
          stream: Stream.EVENTS,
          items: evictions.map((r) => evictionNotice(r, this.epochValue, this.opts.clock.now())),
        },
      ]);
      batches = [...notices, ...sealAll(requests)];
    }
    try {
      this.commit(batches, evictions);
    } catch (e) {
      const dir = dirname(this.opts.file);
      throw commitFailure(e, this.opts.file, () => (this.opts.freeBytes ?? defaultFree)(dir));
    }
    for (const [k, v] of heads) this.heads.set(k, v);
    for (const r of evictions) this.raiseFloor(r.stream, r.toSeq);
    if (evictions.length > 0) {
      this.opts.log.warn({ evictions }, 'outbox over budget: evicted oldest rows');
      if (evictions.some((r) => r.reason === 'disk_space')) giveBackSpace(this.db, this.opts.log);
    }
    return batches;
  }

  private commit(batches: SealedBatch[], evictions: EvictionRange[]): void {
    const ins = this.q.prepare(
      'INSERT INTO outbox (stream, epoch, seq, created_ms, created_up, items, envelope, crc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const chain = this.q.prepare('INSERT OR REPLACE INTO chain (stream, seq, prev_hash) VALUES (?, ?, ?)');
    const del = this.q.prepare('DELETE FROM outbox WHERE stream = ? AND seq BETWEEN ? AND ?');
    const now = this.opts.clock.now();
    const up = this.uptime();
    const gone: [Stream, ReturnType<Queries['range']>][] = [];
    this.db.transaction(() => {
      for (const r of this.pendingRaises) chain.run(r.stream, r.seq, Buffer.from(r.prevHash));
      for (const r of evictions) {
        gone.push([r.stream, this.q.range(r.stream, r.fromSeq, r.toSeq)]);
        del.run(r.stream, r.fromSeq, r.toSeq);
      }
      for (const b of batches) {
        ins.run(b.stream, b.epoch, b.seq, now, up, b.items, b.envelope, rowCrc(b));
        chain.run(b.stream, b.seq, b.payloadHash);
      }
      this.saveUptime.run(up);
    })();
    this.pendingRaises = [];
    for (const [s, f] of gone) this.count(s, -f.rows, -f.bytes, -f.items);
    for (const b of batches) this.count(b.stream, 1, b.envelope.length, b.items);
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

  private planFor(incoming: number): EvictionRange[] {
    let free = Number.POSITIVE_INFINITY;
    try {
      free = (this.opts.freeBytes ?? defaultFree)(dirname(this.opts.file));
    } catch (e) {
      this.opts.log.warn({ err: e }, 'cannot read free space');
    }
    const { need, reason } = evictionNeed(
      this.usedBytes(),
      incoming,
      this.opts.maxBytes,
      free,
      this.opts.minFreeBytes,
    );
    if (need <= 0) return [];
    return planEviction(
      need,
      [Stream.TELEMETRY, Stream.REPORTS, Stream.EVENTS],
      (s) => this.q.sizes(s),
      reason,
    );
  }

  /** Deletes rows of `stream` up to `upToSeq` that the collector stored. Returns rows deleted. */
  ack(stream: Stream, epoch: number, upToSeq: number): number {
    if (epoch !== this.epochValue || !this.heads.has(stream)) return 0;
    return this.remove(stream, this.floor(stream) + 1, Math.min(upToSeq, this.head(stream).seq));
  }

  /** Deletes rows from..to of `stream` that sync says are gone, keeping the counters. */
  private remove(stream: Stream, fromSeq: number, toSeq: number): number {
    if (toSeq < fromSeq) return 0;
    const f = this.q.range(stream, fromSeq, toSeq);
    const n = this.q
      .prepare('DELETE FROM outbox WHERE stream = ? AND seq BETWEEN ? AND ?')
      .run(stream, fromSeq, toSeq).changes;
    this.count(stream, -f.rows, -f.bytes, -f.items);
    if (fromSeq <= this.floor(stream) + 1) this.raiseFloor(stream, toSeq);
    return n;
  }

  private count(stream: Stream, rows: number, bytes: number, items: number): void {
    const t = this.totals.get(stream)!;
    t.rows += rows;
    t.bytes += bytes;
    t.items += items;
  }

  /**
   * Retention: evicts the rows of `stream` up to the newest one older than
   * `maxAgeMs` of uptime, with a `buffer.evicted` notice (reason `retention`).
   * Ages are monotonic: a wall-clock jump never makes a row old. Returns rows evicted.
   */
  expireOlderThan(stream: Stream, maxAgeMs: number): number {
    const cutoff = this.uptime() - maxAgeMs;
    if (cutoff <= 0) return 0;
    const last = this.q
      .prepare<[number, number], { s: number | null }>(
        'SELECT max(seq) AS s FROM outbox WHERE stream = ? AND created_up < ?',
      )
      .get(stream, cutoff)?.s;
    if (last === null || last === undefined) return 0;
    const r = this.q
      .prepare<[number, number], { f: number; n: number; i: number }>(
        'SELECT min(seq) AS f, count(*) AS n, sum(items) AS i FROM outbox WHERE stream = ? AND seq <= ?',
      )
      .get(stream, last)!;
    const range: EvictionRange = {
      stream,
      fromSeq: r.f,
      toSeq: last,
      rows: r.n,
      items: r.i,
      reason: 'retention',
    };
    const notice = this.opts.sealer(
      Stream.EVENTS,
      [evictionNotice(range, this.epochValue, this.opts.clock.now())],
      this.head(Stream.EVENTS),
    );
    this.commit([notice], [range]);
    this.heads.set(Stream.EVENTS, { epoch: this.epochValue, seq: notice.seq, prevHash: notice.payloadHash });
    this.raiseFloor(stream, last);
    this.opts.log.info({ range }, 'retention: evicted old unsent rows');
    return range.rows;
  }

  /** Deletes one row (ackMode "broker": PUBACK is taken as delivery). */
  ackOne(stream: Stream, epoch: number, seq: number): number {
    if (epoch !== this.epochValue || !this.heads.has(stream)) return 0;
    return this.remove(stream, seq, seq);
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
      const all = { ...this.totals.get(stream)!, oldestMs: this.q.oldest(stream) };
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
