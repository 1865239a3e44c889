import type { CronTime } from 'cron';
import type { Clock, TimerHandle } from './clock.js';
import { asError } from './errors.js';
import { lazyPackage } from './lazy.js';
import type { Logger } from './log.js';
import type { CapabilityReport } from './service.js';

/** Retry delays after a failed run: 5 s doubling up to 10 min (never later than the next scheduled run). */
export const RETRY_BASE_MS = 5_000;
export const RETRY_CAP_MS = 10 * 60_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** cron (and its luxon) only for a process that schedules jobs: not for a CLI command. */
const cronPackage = lazyPackage<{ CronTime: typeof CronTime }>('cron');
export const retryDelay = (failures: number): number =>
  Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.max(0, Math.min(failures - 1, 20)));

export interface ScheduledJobOptions {
  /** The capability, in logs. */
  name: string;
  /** Cron expression with seconds first (the `cron` package's), read against the wall clock. */
  schedule: string;
  run: () => Promise<unknown>;
  clock: Clock;
  log: Logger;
  /** Told of each failed run (the job carries on and retries with backoff) and of each good one. */
  report?: CapabilityReport;
}

/**
 * The one shape of cron work: runs on the injected clock, never two runs at once
 * (a tick during a run is skipped), every error caught and handed to `onError`,
 * and a failed run retried with backoff before its next scheduled time.
 */
export class ScheduledJob {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  private stopped = true;
  private readonly cron: CronTime;

  constructor(private readonly opts: ScheduledJobOptions) {
    this.cron = new (cronPackage().CronTime)(opts.schedule);
  }

  start(): void {
    this.stopped = false;
    this.arm();
  }

  /** Stops the schedule and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Runs now unless a run is in progress (then waits for that one); never rejects. */
  runNow(): Promise<void> {
    if (!this.running)
      this.running = this.once().finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** Milliseconds until the next scheduled run. */
  nextDelay(): number {
    const now = this.opts.clock.now();
    return Math.max(0, this.cron.getNextDateFrom(new Date(now)).toMillis() - now);
  }

  private async once(): Promise<void> {
    try {
      await this.opts.run();
      this.failures = 0;
      this.opts.report?.recovered();
    } catch (e) {
      this.failures++;
      const err = asError(e);
      this.opts.log.error(
        { err, job: this.opts.name, failures: this.failures },
        `${this.opts.name} run failed`,
      );
      this.opts.report?.failed(err);
      // A run started by hand (the first one, at start) failed: the retry comes before the next scheduled run.
      this.arm();
    }
  }

  /** (Re)arms the one timer for the next run; arming again replaces it. */
  private arm(): void {
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped) return;
    const due = this.nextDelay();
    const delay = this.failures > 0 ? Math.min(due, retryDelay(this.failures)) : due;
    // Node timers hold at most ~24.8 days: a later run is reached in steps.
    if (delay > MAX_TIMER_MS) {
      this.timer = this.opts.clock.setTimeout(() => this.arm(), MAX_TIMER_MS);
      return;
    }
    this.timer = this.opts.clock.setTimeout(
      () => {
        void this.runNow().then(() => this.arm());
      },
      Math.max(1, delay),
    );
  }
}

/** A repeating timer on the injected clock (what `setInterval` would be). */
export class Every {
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly ms: number,
    private readonly fn: () => void,
  ) {}

  start(): void {
    this.timer = this.clock.setTimeout(() => {
      this.start();
      this.fn();
    }, this.ms);
  }

  stop(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
