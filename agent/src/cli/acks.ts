import type { Finding } from '../audit/index.js';
import type { AgentConfig } from '../config/index.js';
import { readPublicFile } from '../identity/index.js';
import { BUILD_FLOOR_MS } from '../monitor/index.js';
import { applyKeysDocument, TrustStore } from '../trust/index.js';

const trustOf = (cfg: AgentConfig): TrustStore => {
  const t = new TrustStore(cfg.storage.dir, cfg.trust.rootKey);
  t.load();
  return t;
};

/** Can the agent verify the collector's acks (DESIGN.md Ack)? Without a collector key it keeps every row. */
export function acksRow(cfg: AgentConfig): Finding {
  const topic = `${cfg.mqtt.topicPrefix}/${cfg.device.id}/keys`;
  if (cfg.sync.ackMode === 'broker')
    return {
      id: 'acks',
      status: 'warn',
      detail: 'sync.ackMode is "broker": rows are deleted on PUBACK, which a broker may drop afterwards',
      fix: 'use ackMode "collector" with a platform that sends signed acks',
    };
  const trust = trustOf(cfg);
  if (!trust.hasRoot)
    return {
      id: 'acks',
      status: 'warn',
      detail:
        'no root key pinned (trust.rootKey): no keys document, so no ack, can be verified; every row is kept',
      fix: 'set trust.rootKey to the platform root public key',
    };
  const ids = [...trust.keysOf('collector').keys()];
  if (ids.length === 0)
    return {
      id: 'acks',
      status: 'warn',
      detail: 'no keys document names a collector key yet: acks cannot be verified and every row is kept',
      fix: `the platform publishes its root-signed keys document retained on ${topic}, or run \`edge-agent enroll --keys FILE\``,
    };
  return { id: 'acks', status: 'pass', detail: `acks verified with collector key ${ids.join(', ')}` };
}

/** `enroll --keys FILE`: a root-signed keys document from a file, checked as on the keys topic. */
export function installKeysFile(cfg: AgentConfig, file: string): { version: number; collector: string[] } {
  const trust = trustOf(cfg);
  const { version } = applyKeysDocument(Buffer.from(readPublicFile(file)), {
    store: trust,
    deviceId: cfg.device.id,
    groups: cfg.device.groups,
    nowMs: Date.now(),
    // An expiry check waits while the clock is below the build date, as in the daemon.
    clockTrusted: Date.now() >= BUILD_FLOOR_MS,
    maxBytes: cfg.trust.maxDocumentBytes,
  });
  return { version, collector: [...trust.keysOf('collector').keys()] };
}
