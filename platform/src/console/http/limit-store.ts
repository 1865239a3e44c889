import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Clock } from '../types.js';

/** Keys kept at most: a flood of new keys forgets the oldest, never grows without bound. */
const MAX_KEYS = 10_000;

type Done = (error: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * @fastify/rate-limit's fixed-window counting with the console's injected clock (its own
 * LocalStore reads Date.now, which a test cannot move). In memory: a restart forgets it,
 * which costs an attacker's budget one window at most.
 */
export function clockedStore(clock: Clock): FastifyRateLimitStoreCtor {
  class ClockedStore implements FastifyRateLimitStore {
    private readonly windows = new Map<string, { count: number; startMs: number }>();

    incr(key: string, done: Done, timeWindow: number): void {
      const now = clock();
      let w = this.windows.get(key);
      if (!w || w.startMs + timeWindow <= now) w = { count: 0, startMs: now };
      w.count++;
      this.windows.delete(key);
      this.windows.set(key, w);
      if (this.windows.size > MAX_KEYS) this.windows.delete(this.windows.keys().next().value as string);
      done(null, { current: w.count, ttl: w.startMs + timeWindow - now });
    }

    /** The count without adding to it (`{ increment: false }`). */
    read(key: string, done: Done, timeWindow: number): void {
      const now = clock();
      const w = this.windows.get(key);
      if (!w || w.startMs + timeWindow <= now) done(null, { current: 0, ttl: 0 });
      else done(null, { current: w.count, ttl: w.startMs + timeWindow - now });
    }

    child(): FastifyRateLimitStore {
      return new ClockedStore();
    }
  }
  return ClockedStore;
}
