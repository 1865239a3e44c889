import type { CapabilityReport, Clock, EventType, Logger, Service, StreamItem } from '../core/index.js';
import { ScheduledJob, Stream } from '../core/index.js';
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
  report?: CapabilityReport;
}

/**
 * Verifies the gateway against its signed baseline on a schedule: each
 * difference is a security event, the whole report goes on the reports stream.
 */
export class IntegrityService implements Service {
  readonly name = 'integrity';
  private readonly job: ScheduledJob;
  last: IntegrityReport | null = null;

  constructor(private readonly opts: IntegrityServiceOptions) {
    this.job = new ScheduledJob({ ...opts, name: this.name, run: () => this.verifyOnce() });
  }

  async start(): Promise<void> {
    this.job.start();
  }

  async stop(): Promise<void> {
    await this.job.stop();
  }

  /** One verification; null when there is no baseline yet or it failed (logged). */
  async verifyNow(): Promise<IntegrityReport | null> {
    try {
      return await this.verifyOnce();
    } catch (e) {
      this.opts.log.error({ err: e }, 'integrity verification failed');
      return null;
    }
  }

  private async verifyOnce(): Promise<IntegrityReport | null> {
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
      if (!(e instanceof BaselineError && e.code === 'BASELINE_MISSING')) throw e;
      this.opts.log.info('no integrity baseline yet: nothing to verify');
      return null;
    }
  }
}
