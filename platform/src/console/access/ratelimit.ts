import type { Clock } from '../types.js';

export interface LimitPolicy {
  /** Failed attempts allowed per user name in the window. */
  max: number;
  windowMs: number;
}

/** Keys kept at most: a flood of new keys forgets the oldest, never grows without bound. */
const MAX_KEYS = 10_000;

/**
 * Failed logins per key (a user name, a client address) in a sliding window. In memory:
 * a restart forgets it, which costs an attacker's budget one window at most.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly policy: LimitPolicy,
  ) {}

  /** Milliseconds until the key may try again; 0 when it may now. */
  retryAfter(key: string): number {
    const list = this.recent(key);
    const max = this.maxFor(key);
    if (list.length < max) return 0;
    return list[list.length - max] + this.policy.windowMs - this.clock();
  }

  fail(key: string): void {
    const list = this.recent(key);
    list.push(this.clock());
    this.failures.delete(key);
    this.failures.set(key, list);
    if (this.failures.size > MAX_KEYS) this.failures.delete(this.failures.keys().next().value as string);
  }

  succeed(key: string): void {
    this.failures.delete(key);
  }

  /** Address keys (`ip:`) get four times the budget: one NAT may front several operators. */
  private maxFor(key: string): number {
    return key.startsWith('ip:') ? this.policy.max * 4 : this.policy.max;
  }

  private recent(key: string): number[] {
    const since = this.clock() - this.policy.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }
}
