import { AuditService, auditContext } from '../audit/index.js';
import { IntegrityService } from '../integrity/index.js';
import type { DaemonCore, Wired } from './core.js';
import type { Pipeline } from './pipeline.js';
import { reportTo } from './services.js';

export interface IntegrityAudit {
  integrity: IntegrityService;
  audit: AuditService;
}

/** Whether the gateway is still what it was (file integrity) and as it should be (the security audit). */
export function wireIntegrityAudit(core: DaemonCore, pipe: Pipeline): Wired<IntegrityAudit> {
  const { config, clock, log, bus } = core;
  const root = config.monitor.root;
  const integrity = new IntegrityService({
    schedule: config.integrity.schedule,
    baselineFile: config.integrity.baselineFile,
    root,
    publicKey: () => pipe.identity.current.publicKey,
    raise: bus.raise,
    submit: bus.submit,
    clock,
    log: log.child({ module: 'integrity' }),
    report: reportTo(bus, 'integrity'),
  });
  const audit = new AuditService({
    schedule: config.audit.schedule,
    context: () => auditContext(root, config, { clock }),
    stateDir: config.storage.dir,
    raise: bus.raise,
    submit: bus.submit,
    clock,
    log: log.child({ module: 'audit' }),
    report: reportTo(bus, 'audit'),
  });
  return {
    integrity,
    audit,
    services: [],
    optional: [integrity, ...(config.audit.enabled ? [audit] : [])],
  };
}
