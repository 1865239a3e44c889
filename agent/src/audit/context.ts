import type { AgentConfig } from '../config/index.js';
import type { AuditContext } from './types.js';

/** The audit's view of a gateway: its root, and what the agent's config says (when known). */
export function auditContext(
  root: string,
  cfg: AgentConfig | null,
  opts: { probe?: boolean } = {},
): AuditContext {
  if (!cfg) return { root, allowListeners: ['tcp/22'] };
  const u = new URL(cfg.mqtt.url);
  const tlsPort = Number(u.port || (u.protocol === 'mqtts:' ? 8883 : 1883));
  return {
    root,
    allowListeners: cfg.monitor.listeners.allow,
    agent: {
      signingKey: cfg.identity.signingKey,
      tlsKey: cfg.mqtt.key,
      dataDir: cfg.storage.dir,
      mqttUrl: cfg.mqtt.url,
      ca: cfg.mqtt.ca,
      insecurePlaintext: cfg.mqtt.insecurePlaintextForDevelopment,
    },
    probe:
      opts.probe !== false && cfg.audit.probeBroker
        ? {
            host: u.hostname,
            tlsPort,
            plaintextPorts: cfg.audit.plaintextPorts,
            ca: cfg.mqtt.ca,
            servername: cfg.mqtt.servername,
            timeoutMs: 3000,
          }
        : undefined,
  };
}
