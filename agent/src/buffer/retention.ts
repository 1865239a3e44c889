import {
  type Clock,
  type Logger,
  type Service,
  STREAMS,
  type Stream,
  streamName,
  type TimerHandle,
} from '../core/index.js';
import type { Outbox } from './outbox.js';

export interface RetentionOptions {
  outbox: Outbox;
  /** Maximum age of unsent rows per stream, in hours; 0 keeps them. */
  hours: Record<'telemetry' | 'events' | 'reports', number>;
  clock: Clock;
  log: Logger;
  intervalMs?: number;
}

/**
 * Deletes unsent rows past their maximum age, each loss reported by a notice.
 * Ages are counted on the outbox's uptime (monotonic, summed over runs), never
 * on the wall clock: a clock jump, even one the clock monitor trusts, deletes nothing.
 */
export class Retention implements Service {
  readonly name = 'retention';
  private timer: TimerHandle | undefined;

  constructor(private readonly opts: RetentionOptions) {}

  async start(): Promise<void> {
    this.schedule();
  }

  async stop(): Promise<void> {
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
  }

  /** One pass; resolves to rows evicted (their notices committed). */
  async run(): Promise<number> {
    let n = 0;
    for (const s of STREAMS) {
      const h = this.opts.hours[streamName(s as Stream)];
      if (h > 0) n += await this.opts.outbox.expireOlderThan(s, h * 3_600_000);
    }
    return n;
  }

  private schedule(): void {
    this.timer = this.opts.clock.setTimeout(() => {
      this.run()
        .catch((err) => this.opts.log.error({ err }, 'retention pass failed'))
        .finally(() => this.schedule());
    }, this.opts.intervalMs ?? 60_000);
  }
}
