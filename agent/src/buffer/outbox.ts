import { dirname } from 'node:path';
import {
  type ChainHead,
  randomEpoch,
  type SealedBatch,
  type Service,
  STREAMS,
  Stream,
  type StreamItem,
  type TimerHandle,
} from '../core/index.js';
import { BufferBusyError } from './errors.js';
import { defaultFree } from './eviction.js';
import { type StreamTotals, streamStats } from './queries.js';
import { OutboxReader } from './reader.js';
import { RestartBackoff } from './restart-backoff.js';
import { SalvageQueue } from './salvage-queue.js';
import { StoreThread } from './thread.js';
import type { AppendRequest, OutboxOptions, RowFigures, StoredRow, StreamStats } from './types.js';
import type { OpContext, StoreState, ToWorker } from './wire.js';

export type { AppendRequest, OutboxOptions, OutboxRow, RowFigures, StoredRow, StreamStats } from './types.js';

/** What may wait for the worker: past it a submit is refused (BUFFER_BUSY), never buffered without bound. */
export const MAX_PENDING = { batches: 4096, bytes: 32 * 1024 * 1024 };

/**
 * The store-and-forward outbox. Batches are sealed here, on the chain as
 * sealed so far, and committed by the outbox worker, which groups everything
 * that arrives during one fsync into the next transaction: the main thread
 * never waits on the disk. A batch is *accepted* when `append` resolves (its
 * row and chain position committed together). Rows leave only through `ack`
 * or eviction (with a notice). Reads use a read-only connection here.
 * Rows salvaged from a quarantined file wait in `salvage`, in their old epoch.
 */
export class Outbox implements Service {
  readonly name = 'buffer';
  private readonly thread: StoreThread;
  private readonly reader = new OutboxReader();
  /** Rows of older epochs read back from quarantined files, still to deliver. */
  readonly salvage = new SalvageQueue((s, e, after, n) =>
    this.guarded(() => this.reader.salvaged(s, e, after, n)),
  );
  private epochValue = 0;
  /** The chain as sealed (committed or on its way), and as committed. */
  private readonly sealed = new Map<Stream, ChainHead>();
  private readonly committed = new Map<Stream, ChainHead>();
  private readonly floors = new Map<Stream, number>();
  private totals = new Map<Stream, StreamTotals>();
  private used = 0;
  private commitCount = 0;
  private gen = 0;
  private upBase = 0;
  private monoAtOpen = 0;
  /** Notices owed by the store, by debt id, and whether a batch settling them is on its way. */
  private readonly epochListeners: (() => void)[] = [];
  private readonly debts = new Map<number, { item: StreamItem; group: number }>();
  private settling: Promise<void> | undefined;
  private restartTimer: TimerHandle | undefined;
  private readonly backoff: RestartBackoff;
  private stopping = false;
  /** The worker is open and its state absorbed: until then `sealed` may chain on batches it never committed. */
  private ready = false;
  /** Why the outbox refuses commits now (the worker died and is not back yet). */
  fault: Error | null = null;

  constructor(private readonly opts: OutboxOptions) {
    this.backoff = new RestartBackoff(opts.clock);
    this.thread = new StoreThread({
      done: (m) => {
        if (m.quarantined) this.opts.log.error({ reason: m.quarantined }, 'outbox quarantined at run time');
        const newEpoch = m.state.epoch !== this.epochValue;
        // The new file owes every notice the old one did (ids start again): the state lists them all.
        if (m.quarantined && newEpoch) this.debts.clear();
        this.absorb(m.state, newEpoch);
        if (m.gen > this.gen) this.rewind(m.gen);
        if (m.quarantined) {
          this.reader.open(this.opts.file);
          if (newEpoch) for (const f of this.epochListeners) f();
          this.opts.onFault?.(
            Object.assign(new Error(m.quarantined.message), { code: 'BUFFER_QUARANTINED' }),
          );
        }
        if (m.results.some((r) => 'n' in r) || m.quarantined) this.settleLater();
      },
      log: (level, obj, msg) => this.opts.log[level](obj, msg),
      died: (err) => this.died(err),
    });
  }

  get epoch(): number {
    return this.epochValue;
  }

  /** Calls `f` when a new epoch starts while running (the file was quarantined): every row of the old one is gone. */
  onNewEpoch(f: () => void): void {
    this.epochListeners.push(f);
  }

  async start(): Promise<void> {
    this.stopping = false;
    try {
      await this.launch();
      await this.settleDebts();
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.backoff.down();
    if (this.restartTimer) this.opts.clock.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.idle();
    this.reader.close();
    await this.thread.close(this.uptime());
  }

  /** Resolves when nothing waits for the worker (notices owed included). */
  async idle(): Promise<void> {
    while (!this.thread.idle || this.settling) {
      await this.settling?.catch(() => undefined);
      await this.thread.whenIdle();
    }
  }

  private async launch(): Promise<void> {
    this.ready = false;
    const open: ToWorker = {
      t: 'open',
      file: this.opts.file,
      maxBytes: this.opts.maxBytes,
      minFreeBytes: this.opts.minFreeBytes,
      gen: ++this.gen,
      epochs: Array.from({ length: 8 }, () => randomEpoch(this.opts.random)),
      ctx: this.ctx(),
    };
    const state = await this.thread.open(open);
    this.gen = open.gen;
    this.debts.clear();
    this.absorb(state, true);
    this.upBase = state.upBase;
    this.monoAtOpen = this.opts.clock.monotonic();
    this.reader.open(this.opts.file);
    this.ready = true;
  }

  /** The worker died: everything waiting was refused; the outbox reports it and restarts it. */
  private died(err: Error): void {
    this.ready = false;
    this.reader.close();
    this.backoff.down();
    if (this.stopping) return;
    this.fault = err;
    this.opts.log.error({ err }, 'the outbox worker died: restarting it');
    this.opts.onFault?.(err);
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    // One restart at a time: a worker that dies while opening is reported both by its exit and by the
    // failed launch, and two launches would leave one worker (a second writer) running unowned.
    if (this.restartTimer || this.stopping) return;
    this.restartTimer = this.opts.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.launch()
        .then(() => {
          this.fault = null;
          this.backoff.up();
          this.opts.log.info({}, 'outbox worker restarted');
          this.opts.onRecover?.();
          this.settleLater();
        })
        .catch((e) => {
          this.opts.log.error({ err: e }, 'cannot restart the outbox worker');
          if (!this.thread.running) this.scheduleRestart();
        });
    }, this.backoff.next());
  }

  /** Takes in the store's figures; `reset` when they replace ours (open, a new epoch). */
  private absorb(s: StoreState, reset: boolean): void {
    this.epochValue = s.epoch;
    for (const h of s.heads)
      this.committed.set(h.stream, { epoch: s.epoch, seq: h.seq, prevHash: new Uint8Array(h.prevHash) });
    for (const [stream, f] of s.floors)
      if (reset || f > (this.floors.get(stream) ?? 0)) this.floors.set(stream, f);
    this.totals = new Map(s.totals);
    this.used = s.usedBytes;
    this.commitCount = s.commits;
    for (const d of s.debts) this.debts.set(d.id, { item: d.item, group: d.group });
    this.salvage.absorb(s.salvage);
    if (reset) this.rewind(this.gen);
  }

  /** Appends sealed on a failed commit will all be refused: seal again from what is committed. */
  private rewind(gen: number): void {
    this.gen = gen;
    for (const [k, v] of this.committed) this.sealed.set(k, v);
  }

  /** Seals the notices the store owes into one events batch; the debts go in its commit. */
  private settleDebts(): Promise<void> {
    if (this.settling) return this.settling;
    if (this.debts.size === 0 || !this.thread.running) return Promise.resolve();
    const ids = [...this.debts.keys()];
    // One batch per transaction that owed them, as when they were sealed with the change that caused them.
    const groups = new Map<number, StreamItem[]>();
    for (const d of this.debts.values()) groups.set(d.group, [...(groups.get(d.group) ?? []), d.item]);
    const settled = this.append(
      [...groups.values()].map((items) => ({ stream: Stream.EVENTS, items })),
      ids,
    )
      .then(() => {
        for (const id of ids) this.debts.delete(id);
      })
      .finally(() => {
        this.settling = undefined;
      });
    this.settling = settled;
    // Debts owed while this batch was on its way go in the next one.
    return settled.then(() => this.settleDebts());
  }

  /** Settles in the background; a failure leaves the debts owed (they commit with the next success or start). */
  private settleLater(): void {
    this.settleDebts().catch((err) => this.opts.log.warn({ err }, 'cannot commit the notices owed yet'));
  }

  private ctx(): OpContext {
    let free = Number.POSITIVE_INFINITY;
    try {
      free = (this.opts.freeBytes ?? defaultFree)(dirname(this.opts.file));
    } catch (e) {
      this.opts.log.warn({ err: e }, 'cannot read free space');
    }
    return { now: this.opts.clock.now(), up: this.uptime(), free };
  }

  /** Ms this outbox has been open, summed over runs: the clock of row ages (a row never looks older than it is). */
  uptime(): number {
    return this.upBase + Math.max(0, this.opts.clock.monotonic() - this.monoAtOpen);
  }

  /** Highest seq of `stream` removed as a prefix: nothing at or below it is stored. */
  floor(stream: Stream): number {
    return this.floors.get(stream) ?? 0;
  }

  /** Where a stream's chain stands (the last committed batch). */
  head(stream: Stream): ChainHead {
    const h = this.committed.get(stream);
    if (!h) throw new Error(`unknown stream ${stream}`);
    return h;
  }

  /** Bytes the outbox occupies (database pages plus WAL), as of the last commit. */
  usedBytes(): number {
    return this.used;
  }

  /** Transactions the worker committed since it opened the file (each one fsync, whatever it held). */
  commits(): number {
    return this.commitCount;
  }

  /** Batches and bytes waiting for the worker. */
  pending(): { batches: number; bytes: number } {
    return { batches: this.thread.pendingBatches, bytes: this.thread.pendingBytes };
  }

  /**
   * Seals each request into a batch and sends them to the worker; resolves
   * once they are committed (accepted). Refused at once with BUFFER_BUSY past
   * the pending bound, BUFFER_UNAVAILABLE while the worker restarts; after a
   * failed commit with BUFFER_DISK_FULL, BUFFER_IO_ERROR or BUFFER_QUARANTINED.
   */
  async append(requests: AppendRequest[], settle: number[] = []): Promise<SealedBatch[]> {
    if (!this.thread.running || !this.ready) throw this.fault ?? new Error('the outbox is not open');
    const heads = new Map(this.sealed);
    const batches = requests
      .filter((r) => r.items.length > 0)
      .map((r) => {
        const b = this.opts.sealer(r.stream, r.items, heads.get(r.stream)!);
        heads.set(r.stream, { epoch: this.epochValue, seq: b.seq, prevHash: b.payloadHash });
        return b;
      });
    if (batches.length === 0) return [];
    const bytes = batches.reduce((n, b) => n + b.envelope.length, 0);
    const limit = this.opts.pendingLimit ?? MAX_PENDING;
    const p = this.pending();
    if (p.batches > 0 && (p.batches + batches.length > limit.batches || p.bytes + bytes > limit.bytes))
      throw new BufferBusyError(
        `the outbox worker has ${p.batches} batches (${p.bytes} bytes) waiting, at its bound: nothing was accepted`,
      );
    for (const [k, v] of heads) this.sealed.set(k, v);
    await this.thread.request(
      { k: 'append', gen: this.gen, batches, settle },
      this.ctx(),
      batches.length,
      bytes,
    );
    return batches;
  }

  /** Deletes rows of `stream` up to `upToSeq` that the collector stored. Resolves to rows deleted. */
  ack(stream: Stream, epoch: number, upToSeq: number): Promise<number> {
    if (epoch !== this.epochValue) return this.cutSalvaged(stream, epoch, 1, upToSeq);
    return this.cut(stream, epoch, this.floor(stream) + 1, upToSeq);
  }

  /** Deletes one row (ackMode "broker": PUBACK is taken as delivery). */
  ackOne(stream: Stream, epoch: number, seq: number): Promise<number> {
    if (epoch !== this.epochValue) return this.cutSalvaged(stream, epoch, seq, seq);
    return this.cut(stream, epoch, seq, seq);
  }

  /** Salvaged rows of an old epoch: deleted only while held (SalvageQueue.cut), never beyond that epoch's head. */
  private cutSalvaged(stream: Stream, epoch: number, fromSeq: number, upTo: number): Promise<number> {
    const toSeq = Math.min(upTo, this.salvage.head(stream, epoch) ?? 0);
    if (toSeq < fromSeq || !this.thread.running || !this.ready) return Promise.resolve(0);
    if (!this.salvage.cut(stream, epoch, fromSeq, toSeq)) return Promise.resolve(0);
    return this.thread.request({ k: 'ack', stream, epoch, fromSeq, toSeq }, this.ctx());
  }

  private cut(stream: Stream, epoch: number, fromSeq: number, upTo: number): Promise<number> {
    const toSeq = Math.min(upTo, this.committed.get(stream)?.seq ?? 0);
    if (epoch !== this.epochValue || toSeq < fromSeq || !this.thread.running || !this.ready)
      return Promise.resolve(0);
    // Gone for readers now: the delete commits with the next group, and a crash before it only sends them again.
    if (fromSeq <= this.floor(stream) + 1) this.floors.set(stream, Math.max(this.floor(stream), toSeq));
    return this.thread.request({ k: 'ack', stream, epoch, fromSeq, toSeq }, this.ctx());
  }

  /**
   * Retention: evicts the rows of `stream` older than `maxAgeMs` of uptime,
   * reported by a `buffer.evicted` notice (reason `retention`) committed
   * before this resolves. Resolves to rows evicted.
   */
  async expireOlderThan(stream: Stream, maxAgeMs: number): Promise<number> {
    const cutoffUp = this.uptime() - maxAgeMs;
    if (cutoffUp <= 0) return 0;
    const n = await this.thread.request({ k: 'expire', stream, cutoffUp }, this.ctx());
    await this.settleDebts();
    return n;
  }

  /** Up to `limit` stored rows of `stream` with seq above `afterSeq`, in seq order. */
  read(stream: Stream, afterSeq: number, limit: number): StoredRow[] {
    // Nothing committed above it: the drain asks for every stream at each PUBACK, and a query costs ~20 µs.
    if (afterSeq >= (this.committed.get(stream)?.seq ?? 0)) return [];
    return this.guarded(() => this.reader.rows(stream, afterSeq, limit));
  }

  /** A read that fails has the worker check the file (quarantined if corrupt) and reads nothing. */
  private guarded(read: () => StoredRow[]): StoredRow[] {
    try {
      return read();
    } catch (e) {
      this.opts.log.error({ err: e }, 'cannot read the outbox: asking the worker to check it');
      this.thread.check(this.ctx());
      return [];
    }
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
   * Rows, bytes, items and oldest row per stream from the counters kept with
   * each commit (never a scan): `sent` is what `awaiting` reports as PUBACKed.
   */
  stats(awaiting?: (stream: Stream) => RowFigures): StreamStats[] {
    return streamStats(this.totals, (s) => this.head(s).seq, awaiting);
  }

  /** Runs SQLite's full integrity check on the read connection (doctor, tests). */
  integrityCheck(): string {
    return this.reader.integrityCheck();
  }

  /** Ends the worker as a crash would (fault-injection tests). */
  killWorker(): Promise<void> {
    return this.thread.kill();
  }
}
