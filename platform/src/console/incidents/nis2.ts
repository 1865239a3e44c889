import type { Nis2Clock, ReportStage } from './types.js';

const HOUR = 3_600_000;

/** The same day of the next month (the last day when it has none: 31 Jan -> 28/29 Feb), UTC. */
export function addMonth(ms: number): number {
  const d = new Date(ms);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + 1);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d.getTime();
}

/**
 * NIS2 (Directive (EU) 2022/2555) Art. 23(4): an early warning within 24 hours of becoming
 * aware, an incident notification within 72 hours, a final report within one month of the
 * notification (of its deadline while it has not been sent).
 */
export function nis2Clocks(
  awareAtMs: number,
  submitted: Partial<Record<ReportStage, number | null>>,
  nowMs: number,
): Nis2Clock[] {
  const notification = awareAtMs + 72 * HOUR;
  const due: Record<ReportStage, number> = {
    'early-warning': awareAtMs + 24 * HOUR,
    notification,
    'final-report': addMonth(submitted.notification ?? notification),
  };
  return (['early-warning', 'notification', 'final-report'] as const).map((stage) => {
    const sent = submitted[stage] ?? null;
    return {
      stage,
      dueAt: new Date(due[stage]).toISOString(),
      submittedAt: sent === null ? null : new Date(sent).toISOString(),
      status: sent !== null ? 'done' : nowMs > due[stage] ? 'overdue' : 'running',
      remainingMs: sent !== null ? 0 : due[stage] - nowMs,
    };
  });
}
