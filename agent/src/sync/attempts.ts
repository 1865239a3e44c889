import type { Clock, TimerHandle } from '../core/index.js';

/**
 * Publishes awaiting their PUBACK, by lease token, in publish order. With one
 * timeout for all, publish order is deadline order, so one timer at the oldest
 * deadline serves them all: a timer per publish cost more than the ledger (#12).
 */
export class Attempts<A extends { deadline: number }> {
  private readonly byToken = new Map<number, A>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    /** Called for each attempt past its deadline, after it left the set. */
    private readonly expire: (token: number, a: A) => void,
  ) {}

  add(token: number, a: A): void {
    this.byToken.set(token, a);
    if (!this.timer) this.arm(a.deadline);
  }

  /** False when the attempt was already gone (expired or cleared). */
  delete(token: number): boolean {
    return this.byToken.delete(token);
  }

  clear(): void {
    this.byToken.clear();
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(at: number): void {
    const wait = Math.max(0, at - this.clock.monotonic());
    this.timer = this.clock.setTimeout(() => this.sweep(), wait);
  }

  private sweep(): void {
    this.timer = undefined;
    const now = this.clock.monotonic();
    for (const [token, a] of this.byToken) {
      if (a.deadline > now) {
        this.arm(a.deadline);
        return;
      }
      this.byToken.delete(token);
      this.expire(token, a);
    }
  }
}
