import { CertRenewal } from '../identity/index.js';
import type { Sync } from '../sync/index.js';
import { TrustStoreCorruptError } from '../trust/index.js';
import type { RemoteDocument } from './bus.js';
import { type DaemonCore, task, type Wired } from './core.js';
import type { Pipeline } from './pipeline.js';
import { reportTo } from './services.js';

/**
 * Remote management: the device certificate renewed over the link, and signed
 * config and key documents handed to whoever judges them (the supervisor).
 */
export function wireRemote(
  core: DaemonCore,
  pipe: Pipeline,
  sync: Sync,
  judge: ((doc: RemoteDocument) => void) | undefined,
): Wired<{ certs: CertRenewal }> {
  const { config, clock, log, bus } = core;
  const certs = new CertRenewal({
    deviceId: config.device.id,
    certFile: config.mqtt.cert,
    keyFile: config.mqtt.key,
    caFile: config.mqtt.ca,
    stateDir: config.storage.dir,
    renewAt: config.identity.renewAt,
    signing: () => pipe.identity.current,
    clockTrusted: () => pipe.clockMonitor.trusted(),
    sendCsr: (payload) => sync.publishJson('cert/csr', JSON.parse(payload)),
    reconnect: () => sync.reconnect(),
    linkError: () => sync.status().lastError?.code ?? null,
    raise: bus.raise,
    clock,
    log: log.child({ module: 'identity' }),
    report: reportTo(bus, 'cert-renewal'),
    intervalMs: config.identity.checkIntervalS * 1000,
  });
  // The trust store's health is a capability of its own: corrupt, it refuses every document.
  let told = false;
  const trust = task(
    'trust',
    () => {
      const store = core.trust();
      if (store.corrupt) store.load(true);
      if (!store.corrupt) return;
      if (!told) bus.raise('trust.store_corrupt', 'trust.json', { quarantined: store.corrupt });
      told = true;
      throw new TrustStoreCorruptError(store.corrupt);
    },
    () => undefined,
  );
  bus.on('up', () => certs.onUp());
  bus.on('certIssued', (pem) => certs.onIssued(pem));
  if (judge)
    bus.on('document', (d) => {
      if (d.topic !== 'vulnerabilities') judge(d);
    });
  return { certs, services: [], optional: [trust, certs] };
}
