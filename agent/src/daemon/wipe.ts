import { join } from 'node:path';
import type { AgentConfig } from '../config/index.js';
import type { Logger, Service } from '../core/index.js';
import { type WipeReport, wipeFiles } from '../privacy/index.js';
import type { Pipeline } from './pipeline.js';
import type { ServiceSet } from './services.js';

/** Everything `wipe` erases, by what it is. */
export function wipeTargets(cfg: AgentConfig): { what: string; path: string }[] {
  const d = cfg.storage.dir;
  return [
    { what: 'buffer', path: join(d, 'outbox.db') },
    { what: 'inventory', path: join(d, 'inventory.db') },
    { what: 'pseudonymisation key', path: join(d, 'privacy', 'pseudonym.key') },
    { what: 'device signing key', path: cfg.identity.signingKey },
    { what: 'device TLS key', path: cfg.mqtt.key },
    { what: 'certificate signing request', path: cfg.identity.csr },
    { what: 'link state', path: join(d, 'sync-state.json') },
  ];
}

/** The technician named by the CLI (SUDO_USER or the login name); bounded, printable. */
export function technicianOf(args: Record<string, unknown>): string {
  const t = typeof args.technician === 'string' ? args.technician : 'unknown';
  return t.replace(/[^A-Za-z0-9._@-]/g, '?').slice(0, 64) || 'unknown';
}

/**
 * Erases the buffer, the pseudonymisation key and the device keys after stopping
 * every service but the admin socket that asked (it answers with the report).
 */
export async function wipeDaemon(
  config: AgentConfig,
  services: ServiceSet,
  keep: { admin: Service; pipe: Pipeline },
  technician: string,
  log: Logger,
): Promise<WipeReport> {
  log.warn({ technician }, 'wipe requested');
  await services.stop(keep.admin);
  keep.pipe.privacy.key.destroy();
  const report = wipeFiles(wipeTargets(config));
  log.warn({ technician, erased: report.erased.length }, 'wiped');
  return report;
}
