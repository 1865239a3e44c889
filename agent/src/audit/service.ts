import { join } from 'node:path';
import { CronJob } from 'cron';
import { readJsonState, writeJsonState } from '../config/index.js';
import type { Clock, EventType, Logger, Service, Severity, StreamItem } from '../core/index.js';
import { Stream } from '../core/index.js';
import { type AuditReport, runAudit } from './report.js';
import type { AuditContext } from './types.js';

export interface AuditServiceOptions {
  schedule: string;
  context: () => AuditContext;
  stateDir: string;
  raise: (type: EventType, subject: string, details: Record<string, string>, severity?: Severity) => void;
  submit: (items: StreamItem[]) => Promise<void>;
  clock: Clock;
  log: Logger;
}

const STATE = 'audit-state.json';

/**
 * Runs the posture audit at start and on a schedule: the report goes on the
 * reports stream, and each high-severity check that newly fails is an event.
 */
export class AuditService implements Service {
  readonly name = 'audit';
  private job: CronJob | undefined;
  last: AuditReport | null = null;

  constructor(private readonly opts: AuditServiceOptions) {}

  async start(): Promise<void> {
    this.job = CronJob.from({ cronTime: this.opts.schedule, onTick: () => void this.runNow(), start: true });
    void this.runNow();
  }

  async stop(): Promise<void> {
    await this.job?.stop();
  }

  async runNow(): Promise<AuditReport | null> {
    try {
      const r = await runAudit(this.opts.context(), this.opts.clock.now());
      const file = join(this.opts.stateDir, STATE);
      const before = new Set(readJsonState<{ failing: string[] }>(file)?.failing ?? []);
      for (const c of r.checks) {
        if (c.status === 'fail' && r.highFailures.includes(c.id) && !before.has(c.id)) {
          this.opts.raise(
            'audit.check_failed',
            c.id,
            { title: c.title, detail: c.detail, etsi: c.etsi.join(','), remedy: c.remedy },
            c.severity,
          );
        }
      }
      writeJsonState(file, { failing: r.highFailures, score: r.score, checkedAt: r.checkedAt });
      await this.opts.submit([
        {
          stream: Stream.REPORTS,
          report: { kind: 'audit', contentType: 'application/json', body: Buffer.from(JSON.stringify(r)) },
        },
      ]);
      this.last = r;
      return r;
    } catch (e) {
      this.opts.log.error({ err: e }, 'audit failed');
      return null;
    }
  }
}
