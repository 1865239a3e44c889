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

interface Pending {
  item: StreamItem;
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
    return Promise.all(
      items.map(
        (item) =>
          new Promise<void>((resolve, reject) => {
            const q = this.queues.get(item.stream)!;
            q.push({ item, done: (err) => (err ? reject(err) : resolve()) });
            this.arm(item.stream, q.length);
          }),
      ),
    ).then(() => undefined);
  }

  /** Items waiting for their batch, per stream name. */
  queued(): Record<string, number> {
    return Object.fromEntries(STREAMS.map((s) => [streamName(s), this.queues.get(s)?.length ?? 0]));
  }

  private arm(stream: Stream, length: number): void {
    const p = this.opts.policies[stream];
    if (length >= p.maxItems || p.maxDelayMs === 0) {
      this.markDue(stream);
    } else if (length === 1) {
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
      this.queues.set(stream, []);
      const max = this.opts.policies[stream].maxItems;
      for (let i = 0; i < q.length; i += max) {
        const chunk = q.slice(i, i + max);
        requests.push({ stream, items: chunk.map((p) => p.item) });
        taken.push(...chunk);
      }
    }
    if (taken.length === 0) return;
    try {
      this.opts.commit(requests);
    } catch (e) {
      this.opts.log.error({ err: e, items: taken.length }, 'commit failed: items not accepted');
      for (const p of taken) p.done(e as Error);
      return;
    }
    for (const p of taken) p.done();
  }
}
