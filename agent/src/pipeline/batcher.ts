import {
  type Clock,
  type Logger,
  type Service,
  STREAMS,
  type Stream,
  type StreamItem,
  streamName,
  type TimerHandle,
} from '../core/index.js';

/** How one stream is cut into batches. */
export interface Policy {
  maxItems: number;
  maxDelayMs: number;
}

/** One transaction's worth of batches, handed to the outbox. */
export type Commit = (requests: { stream: Stream; items: StreamItem[] }[]) => void;

/** A run of items from one submit call, sharing one completion (no promise per item). */
interface Pending {
  items: StreamItem[];
  done: (err?: Error) => void;
}

export interface BatcherOptions {
  policies: Record<Stream, Policy>;
  commit: Commit;
  clock: Clock;
  log: Logger;
}

/**
 * Collects items per stream and commits them as batches of at most N items,
 * at most T ms (monotonic) after the first one arrived. `submit` resolves only
 * once the transaction holding the item has committed: that is "accepted".
 */
export class Batcher implements Service {
  readonly name = 'batcher';
  private readonly queues = new Map<Stream, Pending[]>();
  private readonly timers = new Map<Stream, TimerHandle>();
  private readonly due = new Set<Stream>();
  /** Items queued per stream. */
  private readonly counts = new Map<Stream, number>();
  private flushScheduled = false;
  private stopped = true;

  constructor(private readonly opts: BatcherOptions) {}

  async start(): Promise<void> {
    for (const s of STREAMS) this.queues.set(s, []);
    this.stopped = false;
  }

  /** Commits whatever is queued, then refuses new items. */
  async stop(): Promise<void> {
    this.flushNow([...STREAMS]);
    this.stopped = true;
  }

  /** Queues items; resolves after their commit, rejects if the commit failed (they were not accepted). */
  submit(items: StreamItem[]): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('the agent is stopping'));
    const byStream = new Map<Stream, StreamItem[]>();
    for (const item of items) {
      const list = byStream.get(item.stream);
      if (list) list.push(item);
      else byStream.set(item.stream, [item]);
    }
    return new Promise<void>((resolve, reject) => {
      let waiting = byStream.size;
      let failed: Error | undefined;
      if (waiting === 0) return resolve();
      const done = (err?: Error) => {
        failed ??= err;
        if (--waiting === 0) failed ? reject(failed) : resolve();
      };
      for (const [stream, list] of byStream) {
        const q = this.queues.get(stream)!;
        q.push({ items: list, done });
        this.counts.set(stream, (this.counts.get(stream) ?? 0) + list.length);
        this.arm(stream, this.counts.get(stream)!, list.length);
      }
    });
  }

  /** Items waiting for their batch, per stream name. */
  queued(): Record<string, number> {
    return Object.fromEntries(STREAMS.map((s) => [streamName(s), this.counts.get(s) ?? 0]));
  }

  private arm(stream: Stream, length: number, added: number): void {
    const p = this.opts.policies[stream];
    if (length >= p.maxItems || p.maxDelayMs === 0) {
      this.markDue(stream);
    } else if (length === added) {
      this.timers.set(
        stream,
        this.opts.clock.setTimeout(() => this.markDue(stream), p.maxDelayMs),
      );
    }
  }

  /** Due streams are flushed together on the next tick, so one commit (one fsync) serves them all. */
  private markDue(stream: Stream): void {
    this.due.add(stream);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const streams = [...this.due];
      this.due.clear();
      this.flushNow(streams);
    });
  }

  private flushNow(streams: Stream[]): void {
    const taken: Pending[] = [];
    const requests: { stream: Stream; items: StreamItem[] }[] = [];
    for (const stream of streams) {
      const t = this.timers.get(stream);
      if (t) this.opts.clock.clearTimeout(t);
      this.timers.delete(stream);
      const q = this.queues.get(stream) ?? [];
      if (q.length === 0) continue;
      this.queues.set(stream, []);
      this.counts.set(stream, 0);
      taken.push(...q);
      const all = q.length === 1 ? q[0].items : q.flatMap((p) => p.items);
      const max = this.opts.policies[stream].maxItems;
      for (let i = 0; i < all.length; i += max) requests.push({ stream, items: all.slice(i, i + max) });
    }
    if (taken.length === 0) return;
    try {
      this.opts.commit(requests);
    } catch (e) {
      const n = requests.reduce((k, r) => k + r.items.length, 0);
      this.opts.log.error({ err: e, items: n }, 'commit failed: items not accepted');
      for (const p of taken) p.done(e as Error);
      return;
    }
    for (const p of taken) p.done();
  }
}
