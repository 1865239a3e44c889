import { type SecurityEvent, Severity } from './types.js';

/** Where an event type comes from, what it weighs, and what it evidences. */
export interface EventSpec {
  severity: Severity;
  category:
    | 'inventory'
    | 'integrity'
    | 'audit'
    | 'management'
    | 'identity'
    | 'buffer'
    | 'access'
    | 'network'
    | 'time'
    | 'agent'
    | 'physical';
  /** ETSI EN 303 645 provision(s) the event evidences. */
  etsi: string;
  /** IEC 62443-4-2 component requirement(s). */
  iec: string;
}

/**
 * The security event catalogue (DESIGN.md, extended in this one place). Every
 * module raises events through `securityEvent`, so a type, its severity and its
 * compliance references can never drift apart.
 */
export const EVENT_CATALOGUE = {
  'sensor.added': { severity: Severity.MEDIUM, category: 'inventory', etsi: '5.12', iec: 'CR 7.8' },
  'sensor.removed': { severity: Severity.HIGH, category: 'inventory', etsi: '5.12', iec: 'CR 7.8' },
  'sensor.replaced': { severity: Severity.HIGH, category: 'inventory', etsi: '5.12', iec: 'CR 7.8' },
  'sensor.moved': { severity: Severity.MEDIUM, category: 'inventory', etsi: '5.12', iec: 'CR 7.8' },
  'sensor.firmware_changed': { severity: Severity.HIGH, category: 'inventory', etsi: '5.3-2', iec: 'CR 3.4' },
  'sensor.vulnerable': { severity: Severity.HIGH, category: 'inventory', etsi: '5.3-13', iec: 'CR 3.4' },
  'sensor.unknown': { severity: Severity.MEDIUM, category: 'inventory', etsi: '5.12', iec: 'CR 7.8' },
  'profiles.rejected': { severity: Severity.HIGH, category: 'management', etsi: '5.7-1', iec: 'CR 3.10' },
  'software.changed': { severity: Severity.MEDIUM, category: 'inventory', etsi: '5.3-2', iec: 'CR 7.8' },
  'software.vulnerable': { severity: Severity.HIGH, category: 'inventory', etsi: '5.3-8', iec: 'CR 3.10' },
  'vulnerabilities.rejected': {
    severity: Severity.HIGH,
    category: 'management',
    etsi: '5.3-1',
    iec: 'CR 3.10',
  },
  'integrity.modified': { severity: Severity.HIGH, category: 'integrity', etsi: '5.7-1', iec: 'CR 3.4' },
  'integrity.added': { severity: Severity.HIGH, category: 'integrity', etsi: '5.7-1', iec: 'CR 3.4' },
  'integrity.removed': { severity: Severity.HIGH, category: 'integrity', etsi: '5.7-1', iec: 'CR 3.4' },
  'integrity.perms_changed': { severity: Severity.HIGH, category: 'integrity', etsi: '5.7-1', iec: 'CR 3.4' },
  'audit.check_failed': { severity: Severity.MEDIUM, category: 'audit', etsi: '5.1-1', iec: 'CR 7.6' },
  'config.applied': { severity: Severity.INFO, category: 'management', etsi: '5.3-1', iec: 'CR 7.6' },
  'config.rejected': { severity: Severity.HIGH, category: 'management', etsi: '5.3-1', iec: 'CR 3.10' },
  'config.rolled_back': { severity: Severity.HIGH, category: 'management', etsi: '5.9-1', iec: 'CR 7.4' },
  'trust.keys_rotated': { severity: Severity.MEDIUM, category: 'identity', etsi: '5.4-1', iec: 'CR 1.14' },
  'trust.document_rejected': { severity: Severity.HIGH, category: 'identity', etsi: '5.4-1', iec: 'CR 3.10' },
  'cert.expiring': { severity: Severity.MEDIUM, category: 'identity', etsi: '5.5-1', iec: 'CR 1.8' },
  'cert.expired': { severity: Severity.HIGH, category: 'identity', etsi: '5.5-1', iec: 'CR 1.8' },
  'cert.renewed': { severity: Severity.INFO, category: 'identity', etsi: '5.5-1', iec: 'CR 1.8' },
  'cert.unreadable': { severity: Severity.HIGH, category: 'identity', etsi: '5.5-1', iec: 'CR 1.8' },
  'cert.rolled_back': { severity: Severity.HIGH, category: 'identity', etsi: '5.5-1', iec: 'CR 1.8' },
  'buffer.evicted': { severity: Severity.MEDIUM, category: 'buffer', etsi: '5.9-2', iec: 'CR 7.2' },
  'buffer.pressure': { severity: Severity.MEDIUM, category: 'buffer', etsi: '5.9-2', iec: 'CR 7.2' },
  'buffer.quarantined': { severity: Severity.HIGH, category: 'buffer', etsi: '5.9-1', iec: 'CR 3.4' },
  'auth.bruteforce': { severity: Severity.HIGH, category: 'access', etsi: '5.1-5', iec: 'CR 1.11' },
  'auth.root_login': { severity: Severity.MEDIUM, category: 'access', etsi: '5.1-1', iec: 'CR 2.8' },
  'auth.login': { severity: Severity.INFO, category: 'access', etsi: '5.1-1', iec: 'CR 2.8' },
  'net.new_listener': { severity: Severity.HIGH, category: 'network', etsi: '5.6-1', iec: 'CR 7.7' },
  'clock.jump': { severity: Severity.MEDIUM, category: 'time', etsi: '5.9-1', iec: 'CR 2.11' },
  'clock.implausible': { severity: Severity.MEDIUM, category: 'time', etsi: '5.9-1', iec: 'CR 2.11' },
  'agent.started': { severity: Severity.INFO, category: 'agent', etsi: '5.9-1', iec: 'CR 3.3' },
  'agent.crash_loop': { severity: Severity.HIGH, category: 'agent', etsi: '5.9-1', iec: 'CR 7.1' },
  'agent.capability_failed': { severity: Severity.HIGH, category: 'agent', etsi: '5.9-1', iec: 'CR 7.1' },
  'agent.state_quarantined': { severity: Severity.HIGH, category: 'agent', etsi: '5.9-1', iec: 'CR 3.4' },
  'trust.store_corrupt': { severity: Severity.CRITICAL, category: 'identity', etsi: '5.4-1', iec: 'CR 3.4' },
  'technician.command': { severity: Severity.INFO, category: 'access', etsi: '5.1-1', iec: 'CR 2.8' },
  'sync.ack_rejected': { severity: Severity.HIGH, category: 'network', etsi: '5.5-1', iec: 'CR 3.1' },
  'tamper.door_open': { severity: Severity.HIGH, category: 'physical', etsi: '5.6-9', iec: 'CR 3.1' },
} as const satisfies Record<string, EventSpec>;

export type EventType = keyof typeof EVENT_CATALOGUE;

/** Makes a catalogued event; `severity` may be raised for one occurrence (say, by an audit check). */
export function securityEvent(
  type: EventType,
  subject: string,
  details: Record<string, string>,
  tsMs: number,
  severity?: Severity,
): SecurityEvent {
  return { type, severity: severity ?? EVENT_CATALOGUE[type].severity, tsMs, subject, details };
}
