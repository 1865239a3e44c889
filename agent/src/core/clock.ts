/**
 * Time and randomness are injected everywhere so tests control them. Timers that
 * measure durations use the monotonic clock; the wall clock is only for stamping.
 */
export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch (may be wrong on a Pi without RTC). */
  now(): number;
  /** Monotonic milliseconds, unaffected by wall-clock jumps. */
  monotonic(): number;
  /** Schedules `fn` after `ms` monotonic milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer from `setTimeout`. */
  clearTimeout(handle: TimerHandle): void;
}

/** Opaque timer handle. */
export interface TimerHandle {
  readonly id: unknown;
}

/** Randomness source. */
export interface Random {
  /** `n` cryptographically random bytes. */
  bytes(n: number): Uint8Array;
}

/** The real clock of the process. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { id: t };
  },
  clearTimeout: (h) => clearTimeout(h.id as NodeJS.Timeout),
};

/** A clock that only moves when a test says so. */
export class ManualClock implements Clock {
  private wall: number;
  private mono = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;

  constructor(wallStart = Date.UTC(2026, 0, 1)) {
    this.wall = wallStart;
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.mono;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.mono + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.id as number);
  }

  /** Moves the wall clock only (a clock jump). */
  setWall(ms: number): void {
    this.wall = ms;
  }

  /** Moves both clocks forward and fires due timers in order. */
  advance(ms: number): void {
    const end = this.mono + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers)
        if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.timers.delete(due[0]);
      this.wall += due[1].at - this.mono;
      this.mono = due[1].at;
      due[1].fn();
    }
    this.wall += end - this.mono;
    this.mono = end;
  }
}
