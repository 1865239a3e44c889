import { CronJob } from 'cron';
import type { Clock, EventType, Logger, Service, StreamItem } from '../core/index.js';
import { Stream } from '../core/index.js';
import { BaselineError } from './baseline.js';
import { type IntegrityReport, verifyAgainstBaseline } from './run.js';

export interface IntegrityServiceOptions {
  schedule: string;
  baselineFile: string;
  root: string;
  publicKey: () => Uint8Array;
  raise: (type: EventType, subject: string, details: Record<string, string>) => void;
  submit: (items: StreamItem[]) => Promise<void>;
  clock: Clock;
  log: Logger;
}

/**
 * Verifies the gateway against its signed baseline on a schedule: each
 * difference is a security event, the whole report goes on the reports stream.
 */
export class IntegrityService implements Service {
  readonly name = 'integrity';
  private job: CronJob | undefined;
  private running = false;
  last: IntegrityReport | null = null;

  constructor(private readonly opts: IntegrityServiceOptions) {}

  async start(): Promise<void> {
    this.job = CronJob.from({
      cronTime: this.opts.schedule,
      onTick: () => void this.verifyNow(),
      start: true,
    });
  }

  async stop(): Promise<void> {
    await this.job?.stop();
  }

  async verifyNow(): Promise<IntegrityReport | null> {
    if (this.running) return null;
    this.running = true;
    try {
      const r = await verifyAgainstBaseline(
        this.opts.baselineFile,
        this.opts.publicKey(),
        this.opts.root,
        this.opts.clock.now(),
      );
      for (const c of r.changes)
        this.opts.raise(`integrity.${c.kind}`, c.path, {
          detail: c.detail,
          baseline: r.baselineDigest.slice(0, 16),
        });
      await this.opts.submit([
        {
          stream: Stream.REPORTS,
          report: {
            kind: 'integrity',
            contentType: 'application/json',
            body: Buffer.from(JSON.stringify(r)),
          },
        },
      ]);
      this.last = r;
      return r;
    } catch (e) {
      if (e instanceof BaselineError && e.code === 'BASELINE_MISSING')
        this.opts.log.info('no integrity baseline yet: nothing to verify');
      else this.opts.log.error({ err: e }, 'integrity verification failed');
      return null;
    } finally {
      this.running = false;
    }
  }
}
