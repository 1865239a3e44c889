import type { Clock, TimerHandle } from '../core/index.js';

/**
 * Waits between restarts of the outbox worker: 500 ms, doubling up to 30 s, and
 * back to 500 ms only once a worker has stayed up 60 s. A worker that opens and
 * dies again at once (a file that kills it on the first write) must not be
 * restarted twice a second forever.
 */
export const RESTART_MS = { first: 500, max: 30_000, healthy: 60_000 };

export class RestartBackoff {
  private delay: number;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly ms = RESTART_MS,
  ) {
    this.delay = ms.first;
  }

  /** The wait before the next restart; each one doubles the one after, up to the max. */
  next(): number {
    const d = this.delay;
    this.delay = Math.min(d * 2, this.ms.max);
    return d;
  }

  /** The worker is up: the backoff starts again from its first step if it stays up long enough. */
  up(): void {
    this.down();
    if (this.delay === this.ms.first) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.delay = this.ms.first;
    }, this.ms.healthy);
  }

  /** The worker died or stops: the time it was up does not count as healthy. */
  down(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
