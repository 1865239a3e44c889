export const ALERT_TYPES = [
  'unexplained_gap',
  'conflicting_batch',
  'prev_hash_mismatch',
  'device_offline',
  'certificate_expiring',
  'vulnerable_firmware',
  'vulnerable_software',
  'posture_drop',
  'integrity_change',
  'door_open',
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type AlertSeverity = (typeof SEVERITIES)[number];

export interface Alert {
  id: number;
  deviceId: string;
  /** One of ALERT_TYPES, or a kind the collectors alert on that the console does not know yet. */
  type: string;
  subject: string;
  severity: AlertSeverity;
  summary: string;
  evidence: Record<string, unknown>;
  count: number;
  firstAt: string;
  lastAt: string;
  state: AlertState;
  assignee: string | null;
  note: string | null;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  incidentId: number | null;
}

export interface AlertFilter {
  state?: AlertState;
  deviceId?: string;
  limit?: number;
}

/** What the periodic sweep looks for (the rest the store raises as it stores). */
export interface SweepPolicy {
  /** A gap must stay unexplained this long (reordering and resends close most within seconds). */
  gapGraceMs: number;
  /** Certificates expiring within this are alerted. */
  certWarnMs: number;
}
export const DEFAULT_SWEEP: SweepPolicy = { gapGraceMs: 10 * 60_000, certWarnMs: 30 * 86_400_000 };
