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
import { ItemTooLargeError } from './errors.js';
import { itemBytes, itemSize, MAX_BATCH_ITEM_BYTES } from './size.js';

/** How one stream is cut into batches. */
export interface Policy {
  maxItems: number;
  maxDelayMs: number;
}

/** One transaction's worth of batches, handed to the outbox; resolves once they are committed. */
export type Commit = (requests: { stream: Stream; items: StreamItem[] }[]) => Promise<void>;

/** A run of items from one submit call, sharing one completion (no promise per item). */
interface Pending {
  items: StreamItem[];
  /** Encoded size bound of each item. */
  sizes: number[];
  done: (err?: Error) => void;
}

export interface BatcherOptions {
  policies: Record<Stream, Policy>;
  commit: Commit;
  clock: Clock;
  log: Logger;
}

/**
 * Collects items per stream and commits them as batches of at most N items and
 * MAX_BATCH_ITEM_BYTES (so every envelope stays below the collector's cap), at
 * most T ms (monotonic) after the first one arrived. `submit` resolves only
 * once the transaction holding the item has committed: that is "accepted".
 */
export class Batcher implements Service {
  readonly name = 'batcher';
  private readonly queues = new Map<Stream, Pending[]>();
  private readonly timers = new Map<Stream, TimerHandle>();
  private readonly due = new Set<Stream>();
  /** Items queued per stream. */
  private readonly counts = new Map<Stream, number>();
  /** Encoded bytes queued per stream. */
  private readonly bytes = new Map<Stream, number>();
  private flushScheduled = false;
  /** Commits handed to the outbox and not answered yet. */
  private readonly inflight = new Set<Promise<void>>();
  private stopped = true;

  constructor(private readonly opts: BatcherOptions) {}

  async start(): Promise<void> {
    for (const s of STREAMS) this.queues.set(s, []);
    this.stopped = false;
  }

  /** Commits whatever is queued, then refuses new items; resolves once every commit is answered. */
  async stop(): Promise<void> {
    this.flushNow([...STREAMS]);
    this.stopped = true;
    await Promise.allSettled([...this.inflight]);
  }

  /**
   * Queues items; resolves after their commit, rejects if the commit failed (they
   * were not accepted), or at once with ItemTooLargeError, naming the field, when
   * one item alone cannot fit in a batch (then none of them is queued).
   */
  submit(items: StreamItem[]): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('the agent is stopping'));
    const byStream = new Map<Stream, { items: StreamItem[]; sizes: number[] }>();
    for (const item of items) {
      const bytes = itemBytes(item);
      if (bytes > MAX_BATCH_ITEM_BYTES) {
        const size = itemSize(item);
        return Promise.reject(new ItemTooLargeError(size.field, size.bytes, MAX_BATCH_ITEM_BYTES));
      }
      const list = byStream.get(item.stream);
      if (list) {
        list.items.push(item);
        list.sizes.push(bytes);
      } else byStream.set(item.stream, { items: [item], sizes: [bytes] });
    }
    return new Promise<void>((resolve, reject) => {
      let waiting = byStream.size;
      let failed: Error | undefined;
      if (waiting === 0) return resolve();
      const done = (err?: Error) => {
        failed ??= err;
        if (--waiting === 0) failed ? reject(failed) : resolve();
      };
      for (const [stream, { items: list, sizes }] of byStream) {
        const q = this.queues.get(stream)!;
        q.push({ items: list, sizes, done });
        this.counts.set(stream, (this.counts.get(stream) ?? 0) + list.length);
        this.bytes.set(stream, (this.bytes.get(stream) ?? 0) + sizes.reduce((a, b) => a + b, 0));
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
    if (length >= p.maxItems || (this.bytes.get(stream) ?? 0) >= MAX_BATCH_ITEM_BYTES || p.maxDelayMs === 0) {
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
      this.bytes.set(stream, 0);
      taken.push(...q);
      requests.push(...cut(stream, q, this.opts.policies[stream].maxItems));
    }
    if (taken.length === 0) return;
    // Not awaited: the next flush seals and queues behind this one, so commits overlap (group commit).
    const commit = this.opts
      .commit(requests)
      .then(
        () => {
          for (const p of taken) p.done();
        },
        (e: Error) => {
          const n = requests.reduce((k, r) => k + r.items.length, 0);
          this.opts.log.error({ err: e, items: n }, 'commit failed: items not accepted');
          for (const p of taken) p.done(e);
        },
      )
      .finally(() => this.inflight.delete(commit));
    this.inflight.add(commit);
  }
}

/** Cuts queued items into batches of at most `max` items and MAX_BATCH_ITEM_BYTES, in order. */
function cut(stream: Stream, q: Pending[], max: number): { stream: Stream; items: StreamItem[] }[] {
  const out: { stream: Stream; items: StreamItem[] }[] = [];
  let items: StreamItem[] = [];
  let bytes = 0;
  for (const p of q) {
    for (let i = 0; i < p.items.length; i++) {
      const size = p.sizes[i];
      if (items.length > 0 && (items.length >= max || bytes + size > MAX_BATCH_ITEM_BYTES)) {
        out.push({ stream, items });
        items = [];
        bytes = 0;
      }
      items.push(p.items[i]);
      bytes += size;
    }
  }
  if (items.length > 0) out.push({ stream, items });
  return out;
}
