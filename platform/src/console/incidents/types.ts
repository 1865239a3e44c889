import type { Alert, AlertSeverity } from '../alerts/index.js';

/**
 * The ENISA Reference Incident Classification Taxonomy (RSIT), as the MISP taxonomy
 * `rsit` names its predicates (classes) and values (types).
 */
export const RSIT: Readonly<Record<string, readonly string[]>> = {
  'abusive-content': ['spam', 'harmful-speech', 'violence'],
  'malicious-code': ['infected-system', 'c2-server', 'malware-distribution', 'malware-configuration'],
  'information-gathering': ['scanner', 'sniffing', 'social-engineering'],
  'intrusion-attempts': ['ids-alert', 'brute-force', 'exploit'],
  intrusions: [
    'privileged-account-compromise',
    'unprivileged-account-compromise',
    'application-compromise',
    'system-compromise',
    'burglary',
  ],
  availability: ['dos', 'ddos', 'misconfiguration', 'sabotage', 'outage'],
  'information-content-security': [
    'unauthorised-information-access',
    'unauthorised-information-modification',
    'data-loss',
    'data-leak',
  ],
  fraud: ['unauthorised-use-of-resources', 'copyright', 'masquerade', 'phishing'],
  vulnerable: [
    'weak-crypto',
    'ddos-amplifier',
    'potentially-unwanted-accessible',
    'information-disclosure',
    'vulnerable-system',
  ],
  other: ['other', 'undetermined'],
  test: ['test'],
};

export type ReportStage = 'early-warning' | 'notification' | 'final-report';
export const REPORT_STAGES: readonly ReportStage[] = ['early-warning', 'notification', 'final-report'];

/** One NIS2 Art. 23 deadline and where it stands. */
export interface Nis2Clock {
  stage: ReportStage;
  dueAt: string;
  submittedAt: string | null;
  /** done: submitted; overdue: not submitted and past due; running: not yet due. */
  status: 'done' | 'overdue' | 'running';
  /** Until due (negative: overdue); 0 once submitted. */
  remainingMs: number;
}

export interface Incident {
  id: number;
  title: string;
  summary: string;
  awareAt: string;
  createdAt: string;
  createdBy: string;
  severity: AlertSeverity;
  rsitClass: string;
  rsitType: string;
  status: 'open' | 'closed';
  clocks: Nis2Clock[];
}

export interface IncidentDetail extends Incident {
  alerts: Alert[];
  /** The registry entries of the devices involved. */
  devices: { deviceId: string; site: string | null; lat: number | null; lon: number | null }[];
}

export interface NewIncident {
  title: string;
  summary?: string;
  severity: AlertSeverity;
  rsitClass: string;
  rsitType: string;
  /** When the operator became aware; default: now. */
  awareAtMs?: number;
  alertIds: number[];
}
