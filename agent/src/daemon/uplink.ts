import { readPublicFile, readSecretFile } from '../identity/index.js';
import { Sync } from '../sync/index.js';
import { AGENT_VERSION } from '../version.js';
import type { DaemonCore, Wired } from './core.js';
import type { Pipeline } from './pipeline.js';

/** The one link upstream: drains the outbox to the broker, and brings documents and certificates back onto the bus. */
export function wireUplink(core: DaemonCore, pipe: Pipeline): Wired<{ sync: Sync }> {
  const { config, clock, random, log, bus } = core;
  const sync = new Sync({
    deviceId: config.device.id,
    mqtt: config.mqtt,
    sync: config.sync,
    maxDocumentBytes: config.trust.maxDocumentBytes,
    stateDir: config.storage.dir,
    tls: () => ({
      ca: readPublicFile(config.mqtt.ca),
      cert: readPublicFile(config.mqtt.cert),
      key: readSecretFile(config.mqtt.key),
    }),
    statusInfo: () => ({
      agentVersion: AGENT_VERSION,
      bootTime: new Date(core.bootTime).toISOString(),
      configVersion: core.configVersion,
      epoch: pipe.outbox.epoch,
    }),
    outbox: pipe.outbox,
    onDocument: (raw, topic) => bus.emit('document', { raw, topic: topic ?? 'config' }),
    documents: { vulnerabilities: (raw) => bus.emit('document', { raw, topic: 'vulnerabilities' }) },
    onUp: () => bus.emit('up', undefined),
    onCertIssued: (pem) => bus.emit('certIssued', pem),
    collectorKeys: () => core.trust().keysOf('collector'),
    raise: bus.raise,
    clock,
    random,
    log: log.child({ module: 'sync' }),
  });
  bus.on('committed', () => sync.kick());
  return { sync, services: [sync] };
}
