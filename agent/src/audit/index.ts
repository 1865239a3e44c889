export { auditContext, imageAuditContext } from './context.js';
export { cryptMatches, VENDOR_DEFAULTS } from './passwords.js';
export { probePlaintext, probeWithoutClientCert } from './probe.js';
export { type AuditReport, CHECKS, type CheckOutcome, runAudit } from './report.js';
export { AuditService, type AuditServiceOptions } from './service.js';
export type { AuditContext, Check, CheckResult, Evidence, Finding, Status } from './types.js';
