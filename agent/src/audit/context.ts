import { type AgentConfig, ConfigError, parseConfig } from '../config/index.js';
import { type Clock, systemClock } from '../core/index.js';
import { BUILD_FLOOR_MS } from '../monitor/index.js';
import { feedInForce } from '../software/index.js';
import { AGENT_CONFIG, readGateway } from './files.js';
import type { AuditContext } from './types.js';

/**
 * The audit's view of an image (a mounted SD card, a fixture tree): the image's
 * own agent config, its paths read inside the image, and no network probe (the
 * network reachable from here is not the image's).
 */
export function imageAuditContext(root: string): AuditContext {
  const bare = { root, allowListeners: ['tcp/22'] };
  const r = readGateway(root, AGENT_CONFIG);
  if (r.kind === 'missing')
    return { ...bare, agentAbsent: `the image has no edge-agent (no ${AGENT_CONFIG})` };
  if (r.kind === 'not-readable') return { ...bare, agentConfigProblem: `${AGENT_CONFIG} cannot be read` };
  let cfg: AgentConfig;
  try {
    cfg = parseConfig(JSON.parse(r.text), AGENT_CONFIG);
  } catch (e) {
    const why =
      e instanceof ConfigError
        ? e.issues.map((i) => `${i.path}: ${i.message}`).join('; ')
        : `not valid JSON: ${(e as Error).message}`;
    return { ...bare, agentConfigProblem: `the image's agent config is invalid: ${why}` };
  }
  return auditContext(root, cfg, { probe: false });
}

/** The audit's view of a gateway: its root, and what the agent's config says (when known). */
export function auditContext(
  root: string,
  cfg: AgentConfig | null,
  opts: { probe?: boolean; clock?: Clock } = {},
): AuditContext {
  if (!cfg) return { root, allowListeners: ['tcp/22'] };
  const u = new URL(cfg.mqtt.url);
  const tlsPort = Number(u.port || (u.protocol === 'mqtts:' ? 8883 : 1883));
  return {
    root,
    allowListeners: cfg.monitor.listeners.allow,
    software: softwareOf(root, cfg, opts.clock ?? systemClock),
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
            clock: opts.clock ?? systemClock,
          }
        : undefined,
  };
}

/** The feed in force for the software check, and why there is none when there is none. */
function softwareOf(root: string, cfg: AgentConfig, clock: Clock): NonNullable<AuditContext['software']> {
  let problem: string | undefined;
  const paths = { feedFile: cfg.software.feed, stateDir: cfg.storage.dir };
  // Judged by target and expiry as the daemon judges it; a date before this build is implausible.
  const nowMs = clock.now();
  const audience = {
    deviceId: cfg.device.id,
    groups: cfg.device.groups,
    nowMs,
    clockTrusted: nowMs >= BUILD_FLOOR_MS,
  };
  const feed = feedInForce(
    root,
    paths,
    cfg.trust.rootKey,
    (r) => {
      problem = `feed refused: ${r}`;
    },
    audience,
  );
  return { feed, problem };
}
