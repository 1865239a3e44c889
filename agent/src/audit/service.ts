import { join } from 'node:path';
import { readJsonState, writeJsonState } from '../config/index.js';
import type {
  CapabilityReport,
  Clock,
  EventType,
  Logger,
  Service,
  Severity,
  StreamItem,
} from '../core/index.js';
import { ScheduledJob, Stream } from '../core/index.js';
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
  report?: CapabilityReport;
}

const STATE = 'audit-state.json';

/**
 * Runs the posture audit at start and on a schedule: the report goes on the
 * reports stream, and each high-severity check that newly fails is an event.
 */
export class AuditService implements Service {
  readonly name = 'audit';
  private readonly job: ScheduledJob;
  last: AuditReport | null = null;

  constructor(private readonly opts: AuditServiceOptions) {
    this.job = new ScheduledJob({ ...opts, name: this.name, run: () => this.runOnce() });
  }

  async start(): Promise<void> {
    this.job.start();
    void this.job.runNow();
  }

  async stop(): Promise<void> {
    await this.job.stop();
  }

  /** One audit; null when it failed (logged). */
  async runNow(): Promise<AuditReport | null> {
    try {
      return await this.runOnce();
    } catch (e) {
      this.opts.log.error({ err: e }, 'audit failed');
      return null;
    }
  }

  private async runOnce(): Promise<AuditReport> {
    const r = await runAudit(this.opts.context(), this.opts.clock.now());
    const file = join(this.opts.stateDir, STATE);
    // Any other shape (a damaged file) counts as nothing failing before: new Set(5) threw in every run.
    const saved = readJsonState<{ failing?: unknown }>(file)?.failing;
    const before = new Set(Array.isArray(saved) ? saved : []);
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
    await this.opts.submit([
      {
        stream: Stream.REPORTS,
        report: { kind: 'audit', contentType: 'application/json', body: Buffer.from(JSON.stringify(r)) },
      },
    ]);
    // Saved only once the report is accepted: a failed submit raises the new failures again.
    writeJsonState(file, { failing: r.highFailures, score: r.score, checkedAt: r.checkedAt });
    this.last = r;
    return r;
  }
}
