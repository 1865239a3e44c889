import { STREAMS, Stream, type StreamItem } from '../core/index.js';
import { type Db, giveBackSpace, isCorruption, openDb, quickCheckFile } from './db.js';
import { BufferError, commitFailure } from './errors.js';
import { type EvictionRange, evictionNeed, evictionNotice, planEviction, unsentRanges } from './eviction.js';
import { HighWaterMark } from './high-water.js';
import {
  asidePath,
  finishQuarantine,
  moveAside,
  readJournal,
  renamePending,
  writeJournal,
} from './quarantine.js';
import { Queries, type StreamTotals } from './queries.js';
import { rowCrc, setAsideDamagedRows } from './row-check.js';
import { SalvageTable } from './salvage-table.js';
import type { NoticeDebt, OpContext, StoreOp, StoreState } from './wire.js';

export interface StoreOptions {
  file: string;
  maxBytes: number;
  minFreeBytes: number;
  /** Fresh epochs for new files, used in turn (randomness stays injected in the main thread). */
  epochs: number[];
  log: (level: 'info' | 'warn' | 'error', obj: Record<string, unknown>, msg: string) => void;
}

const ZERO = new Uint8Array(32);

/**
 * The outbox's SQLite file, run by the outbox worker: whole groups of
 * operations (appends of batches sealed on the main thread, acks as range
 * deletes, retention) commit in one transaction, so one fsync serves them all.
 * Seq and chain state commit with the rows. Losses (evictions, a lost WAL tail,
 * a quarantine) commit as notice debts with the change that caused them, and a
 * debt is settled only in the transaction that stores its sealed notice.
 */
export class OutboxStore {
  private db!: Db;
  private q!: Queries;
  private salvaged!: SalvageTable;
  private epoch = 0;
  private readonly heads = new Map<Stream, { seq: number; prevHash: Uint8Array }>();
  private readonly floors = new Map<Stream, number>();
  private readonly totals = new Map<Stream, StreamTotals>();
  private pageSize = 4096;
  /** Bytes used as of the last state(): nothing writes the file between a group's state and the next group. */
  private used: number | undefined;
  /** Streams whose oldest row may have changed (rows deleted, or the first one added): asked at the next state(). */
  private readonly oldestStale = new Set<Stream>(STREAMS);
  private upBase = 0;
  private readonly hwm: HighWaterMark;
  private newDebts: NoticeDebt[] = [];
  /** The notices table as committed, kept here too: a file quarantined at run time cannot be read for it. */
  private owed = new Map<number, StreamItem>();
  /** Numbers each transaction that may owe notices (they are sealed together). */
  private txn = 0;
  private commits = 0;
  /** Heads and floors describe the open file (not a load that failed half way). */
  private loaded = false;

  constructor(private readonly opts: StoreOptions) {
    this.hwm = new HighWaterMark(`${opts.file}.hwm`, opts.log);
  }

  /** The WAL counts against the budget and the disk: kept small and truncated after checkpoints. */
  private get walLimit(): number {
    return Math.min(4 * 1024 * 1024, Math.max(256 * 1024, Math.floor(this.opts.maxBytes / 16)));
  }

  /** Opens the file, quarantining it when corrupt; every debt still owed is in the state. */
  open(ctx: OpContext): StoreState {
    const j = readJournal(this.opts.file);
    if (j && renamePending(this.opts.file, j)) moveAside(this.opts.file, j.aside);
    try {
      this.db = openDb(this.opts.file, this.walLimit);
      this.load(ctx);
    } catch (e) {
      if (!isCorruption(e) && !(e instanceof BufferError && e.code === 'BUFFER_SCHEMA')) throw e;
      this.replace(e, ctx);
    }
    return this.state(this.allDebts());
  }

  /**
   * Moves a corrupt file aside and starts a new epoch in a new one. What the old
   * file held unsent (known here, not from the file) goes in a journal synced
   * before the rename; the new file's load salvages what still reads and owes
   * the notices of the rest (quarantine.ts).
   */
  replace(err: unknown, ctx: OpContext): StoreState {
    const aside = asidePath(this.opts.file, ctx.now);
    writeJournal(this.opts.file, {
      aside,
      reason: String((err as Error).message).slice(0, 200),
      nowMs: ctx.now,
      wanted: this.loaded
        ? [
            ...unsentRanges(this.floors, this.heads).map((r) => ({ ...r, epoch: this.epoch })),
            ...this.salvaged.wanted(),
          ]
        : this.hwm.unsent(),
      owed: this.loaded ? [...this.owed.values()] : [],
    });
    if (this.db?.open) this.db.close();
    moveAside(this.opts.file, aside);
    this.opts.log('error', { err: String(err), aside }, 'outbox database is corrupt: quarantined, new epoch');
    this.db = openDb(this.opts.file, this.walLimit);
    this.load(ctx);
    return this.state(this.allDebts());
  }

  private load(ctx: OpContext): void {
    this.loaded = false;
    this.used = undefined;
    for (const s of STREAMS) this.oldestStale.add(s);
    this.q = new Queries(this.db);
    this.salvaged = new SalvageTable(this.db);
    this.pageSize = this.db.pragma('page_size', { simple: true }) as number;
    this.db.exec('CREATE TABLE IF NOT EXISTS notices (id INTEGER PRIMARY KEY, item TEXT NOT NULL)');
    const get = this.q.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
    let epoch = get.get('epoch')?.value;
    if (epoch === undefined) {
      const rows = this.q.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox').get()?.n ?? 0;
      if (rows > 0) throw new BufferError('BUFFER_SCHEMA', 'outbox has rows but no epoch');
      const next = this.opts.epochs.shift();
      if (next === undefined) throw new BufferError('BUFFER_EPOCH', 'no fresh epoch left for a new outbox');
      epoch = String(next);
      this.q.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('epoch', epoch);
    }
    this.epoch = Number(epoch);
    this.upBase = this.q.uptime();
    this.heads.clear();
    for (const s of STREAMS) this.heads.set(s, { seq: 0, prevHash: ZERO });
    for (const c of this.q
      .prepare<[], { stream: Stream; seq: number; prev_hash: Buffer }>('SELECT * FROM chain')
      .all())
      this.heads.set(c.stream, { seq: c.seq, prevHash: new Uint8Array(c.prev_hash) });
    this.checkHighWater(ctx);
    const damaged = setAsideDamagedRows(this.db, ctx.now, (obj, msg) => this.opts.log('error', obj, msg));
    if (damaged.length > 0) this.owe(damaged.map((r) => evictionNotice(r, this.epoch, ctx.now)));
    for (const s of STREAMS) {
      this.floors.set(s, (this.q.rows(s, 0, 1)[0]?.seq ?? this.heads.get(s)!.seq + 1) - 1);
      this.totals.set(s, this.q.totals(s));
    }
    finishQuarantine(this.opts.file, this.db, this.salvaged, (items) => this.owe(items), {
      epoch: this.epoch,
      nowMs: ctx.now,
      log: (obj, msg) => this.opts.log('warn', obj, msg),
    });
    this.loaded = true;
  }

  /**
   * Batches sealed up to the mark but missing now (high-water.ts, `losses`):
   * the heads move up to the mark, in the transaction that owes the notice of
   * the exact range (reason `lost`), so those seqs are never reused nor a loss forgotten.
   */
  private checkHighWater(ctx: OpContext): void {
    const lost = this.hwm.losses(this.epoch, this.heads);
    if (lost.length === 0) return;
    const chain = this.q.prepare('INSERT OR REPLACE INTO chain (stream, seq, prev_hash) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      for (const { range, head } of lost) {
        chain.run(range.stream, head.seq, Buffer.from(head.prevHash));
        this.heads.set(range.stream, head);
      }
      this.owe(lost.map((l) => evictionNotice(l.range, this.epoch, ctx.now)));
    })();
  }

  /** Records notices owed; inside the caller's transaction when there is one. */
  private owe(items: StreamItem[]): void {
    const ins = this.q.prepare<[string]>('INSERT INTO notices (item) VALUES (?)');
    for (const item of items)
      this.newDebts.push({
        id: Number(ins.run(JSON.stringify(item)).lastInsertRowid),
        item,
        group: this.txn,
      });
  }

  private allDebts(): NoticeDebt[] {
    this.newDebts = [];
    const base = this.txn + 1;
    // A damaged file may owe many ranges: at most 200 notices a batch keeps each well under the collector's size bound.
    const all = this.q
      .prepare<[], { id: number; item: string }>('SELECT id, item FROM notices ORDER BY id')
      .all()
      .map((r, i) => ({
        id: r.id,
        item: JSON.parse(r.item) as StreamItem,
        group: base + Math.floor(i / 200),
      }));
    this.txn = (all.at(-1)?.group ?? base) + 1;
    this.owed = new Map(all.map((d) => [d.id, d.item]));
    return all;
  }

  /**
   * Runs a group durably: the mark of the heads it will have is written before
   * the commit and synced on the thread pool while SQLite syncs the commit here.
   * A failed commit puts the mark back (synced) before the group is answered.
   */
  async commit(ops: StoreOp[], ctx: OpContext): Promise<number[]> {
    const marking = this.hwm.ahead(
      this.epoch,
      this.heads,
      this.floors,
      ops.flatMap((o) => (o.k === 'append' ? o.batches : [])),
    );
    try {
      const counts = this.run(ops, ctx);
      if (!marking && counts.some((n) => n > 0)) this.hwm.floorsMoved(this.epoch, this.heads, this.floors);
      await marking; // never rejects
      return counts;
    } catch (e) {
      if (marking) await marking.then(() => this.hwm.back(this.epoch, this.heads, this.floors));
      throw e;
    }
  }

  /**
   * One transaction (one fsync) for the group; the rows each op deleted. Throws the classified
   * failure when the commit fails (then nothing of the group happened). The mark is commit's.
   */
  private run(ops: StoreOp[], ctx: OpContext): number[] {
    // A batch of notices never evicts: its own eviction would owe another notice, and so on.
    const incoming = ops.reduce(
      (n, o) =>
        n +
        (o.k === 'append' && o.settle.length === 0
          ? o.batches.reduce((m, b) => m + b.envelope.length + 64, 0)
          : 0),
      0,
    );
    this.txn++;
    const evictions = incoming > 0 ? this.planFor(incoming, ctx.free) : [];
    this.used = undefined;
    const deltas: [Stream, number, number, number][] = [];
    const ins = this.q.prepare(
      'INSERT INTO outbox (stream, epoch, seq, created_ms, created_up, items, envelope, crc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const chain = this.q.prepare('INSERT OR REPLACE INTO chain (stream, seq, prev_hash) VALUES (?, ?, ?)');
    const settle = this.q.prepare<[number]>('DELETE FROM notices WHERE id = ?');
    const heads = new Map(this.heads);
    const floors = new Map(this.floors);
    let counts: number[] = [];
    try {
      counts = this.db.transaction(() => {
        for (const r of evictions) this.cut(r, deltas, floors);
        if (evictions.length > 0) this.owe(evictions.map((r) => evictionNotice(r, this.epoch, ctx.now)));
        const n = ops.map((o) => {
          if (o.k === 'append') {
            for (const b of o.batches) {
              ins.run(b.stream, b.epoch, b.seq, ctx.now, ctx.up, b.items, b.envelope, rowCrc(b));
              chain.run(b.stream, b.seq, b.payloadHash);
              heads.set(b.stream, { seq: b.seq, prevHash: b.payloadHash });
              deltas.push([b.stream, 1, b.envelope.length, b.items]);
            }
            for (const id of o.settle) settle.run(id);
            return 0;
          }
          if (o.k === 'ack') {
            if (o.epoch !== this.epoch) return this.salvaged.cut(o.stream, o.epoch, o.fromSeq, o.toSeq);
            const to = Math.min(o.toSeq, heads.get(o.stream)?.seq ?? 0);
            return this.cut({ stream: o.stream, fromSeq: o.fromSeq, toSeq: to }, deltas, floors);
          }
          return this.expire(o.stream, o.cutoffUp, deltas, floors, ctx);
        });
        // A row appended carries the uptime (created_up): the meta row (two more pages) only goes with deletes.
        if (evictions.length > 0 || ops.some((o) => o.k !== 'append')) this.q.saveUptime(ctx.up);
        return n;
      })();
    } catch (e) {
      this.newDebts = [];
      this.salvaged.rolledBack();
      if (isCorruption(e)) throw e;
      throw commitFailure(e, this.opts.file, () => ctx.free);
    }
    this.commits++;
    this.salvaged.committed();
    for (const o of ops) if (o.k === 'append') for (const id of o.settle) this.owed.delete(id);
    for (const d of this.newDebts) this.owed.set(d.id, d.item);
    for (const [k, v] of heads) this.heads.set(k, v);
    for (const [k, v] of floors) this.floors.set(k, v);
    for (const [s, rows, bytes, items] of deltas) {
      const t = this.totals.get(s)!;
      if (rows < 0 || t.rows === 0) this.oldestStale.add(s);
      t.rows += rows;
      t.bytes += bytes;
      t.items += items;
    }
    if (evictions.length > 0) {
      this.opts.log('warn', { evictions }, 'outbox over budget: evicted oldest rows');
      if (evictions.some((r) => r.reason === 'disk_space'))
        giveBackSpace(this.db, (err, m) => this.opts.log('warn', { err: String(err) }, m));
    }
    return counts;
  }

  /** Deletes a stored range, counting what it held; a prefix cut raises the floor. */
  private cut(
    r: { stream: Stream; fromSeq: number; toSeq: number },
    deltas: [Stream, number, number, number][],
    floors: Map<Stream, number>,
  ): number {
    if (r.toSeq < r.fromSeq) return 0;
    const f = this.q.range(r.stream, r.fromSeq, r.toSeq);
    const n = this.q
      .prepare('DELETE FROM outbox WHERE stream = ? AND seq BETWEEN ? AND ?')
      .run(r.stream, r.fromSeq, r.toSeq).changes;
    deltas.push([r.stream, -f.rows, -f.bytes, -f.items]);
    const floor = floors.get(r.stream) ?? 0;
    // Rows above may be gone already (ackMode "broker" deletes rows at their PUBACKs, in any order). Rows this
    // transaction appended are stored: only a head from before it can be past every stored row.
    if (r.fromSeq <= floor + 1 && floor < r.toSeq)
      floors.set(r.stream, this.q.floorAbove(r.stream, r.toSeq, this.heads.get(r.stream)?.seq ?? 0));
    return n;
  }

  /** Retention: the rows of `stream` committed before `cutoffUp` of uptime go, with a notice owed. */
  private expire(
    stream: Stream,
    cutoffUp: number,
    deltas: [Stream, number, number, number][],
    floors: Map<Stream, number>,
    ctx: OpContext,
  ): number {
    const range = cutoffUp > 0 ? this.q.expiry(stream, cutoffUp) : undefined;
    if (!range) return 0;
    this.cut(range, deltas, floors);
    this.owe([evictionNotice(range, this.epoch, ctx.now)]);
    this.opts.log('info', { range }, 'retention: evicted old unsent rows');
    return range.rows;
  }

  private planFor(incoming: number, free: number): EvictionRange[] {
    const { need, reason } = evictionNeed(
      this.used ?? this.usedBytes(),
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

  /** Bytes the outbox occupies now: live database pages plus the WAL file. */
  usedBytes(): number {
    return this.q.usedBytes(`${this.opts.file}-wal`, this.pageSize);
  }

  /** SQLite's quick check through a fresh connection (this one's page cache may hide a bad file). */
  quickCheck(): string {
    return quickCheckFile(this.opts.file);
  }

  /** The mirror for the main thread, with the debts owed since the last one. */
  state(debts = this.takeDebts()): StoreState {
    for (const s of this.oldestStale) this.totals.get(s)!.oldestMs = this.q.oldest(s);
    this.oldestStale.clear();
    this.used = this.usedBytes();
    return {
      epoch: this.epoch,
      heads: STREAMS.map((s) => ({ stream: s, ...this.heads.get(s)! })),
      floors: [...this.floors],
      totals: [...this.totals].map(([s, t]) => [s, { ...t }]),
      usedBytes: this.used,
      upBase: this.upBase,
      commits: this.commits,
      debts,
      salvage: this.salvaged.list(),
    };
  }

  private takeDebts(): NoticeDebt[] {
    const d = this.newDebts;
    this.newDebts = [];
    return d;
  }

  close(up: number): void {
    if (this.db?.open) {
      try {
        this.q.saveUptime(up);
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        this.db.close();
      }
    }
    this.hwm.close();
  }
}
