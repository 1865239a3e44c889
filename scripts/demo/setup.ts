import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AgentConfig, parseConfig } from '../../agent/src/config/index.js';
import { describeIdentity, initIdentity } from '../../agent/src/identity/index.js';
import { applyKeysDocument, TrustStore } from '../../agent/src/trust/index.js';
import type { DevTrust } from '../lib/dev-trust.js';
import { createCa, issueClient, issueServer, signCsr } from '../pki/lib.js';

/** Everything the demo makes lives under one local folder; nothing under /etc or /var. */
export interface DevWorld {
  dir: string;
  ca: string;
  server: { cert: string; key: string };
  collector: { cert: string; key: string };
  registry: string;
  configFile: string;
}

export const DEMO_DEVICE = 'demo-gw-01';

function once(file: string, make: () => string, mode = 0o644): string {
  if (!existsSync(file)) writeFileSync(file, make(), { mode });
  return file;
}

/** Creates (or reuses) the dev PKI: CA, broker certificate, collector certificate. */
export function devPki(dir: string): Pick<DevWorld, 'ca' | 'server' | 'collector'> {
  const pki = join(dir, 'pki');
  mkdirSync(pki, { recursive: true, mode: 0o700 });
  if (!existsSync(join(pki, 'ca.key'))) {
    const ca = createCa('edge-agent demo CA');
    writeFileSync(join(pki, 'ca.key'), ca.keyPem, { mode: 0o600 });
    writeFileSync(join(pki, 'ca.crt'), ca.certPem);
  }
  const ca = {
    certPem: readFileSync(join(pki, 'ca.crt'), 'utf8'),
    keyPem: readFileSync(join(pki, 'ca.key'), 'utf8'),
  };
  const leaf = (name: string, make: () => { certPem: string; keyPem: string }) => {
    const cert = join(pki, `${name}.crt`);
    const key = join(pki, `${name}.key`);
    if (!existsSync(cert) || !existsSync(key)) {
      const x = make();
      writeFileSync(key, x.keyPem, { mode: 0o600 });
      writeFileSync(cert, x.certPem);
    }
    return { cert, key };
  };
  return {
    ca: join(pki, 'ca.crt'),
    server: leaf('server', () => issueServer(ca)),
    collector: leaf('collector', () => issueClient(ca, 'collector')),
  };
}

/** Writes the demo agent's config for a broker on `port`, makes its identity and has its CSR signed by the dev CA. */
export async function devAgent(
  dir: string,
  port: number,
  pki: Pick<DevWorld, 'ca'>,
  trust: DevTrust,
): Promise<{ config: AgentConfig; configFile: string; registry: string }> {
  const agentDir = join(dir, 'agent');
  mkdirSync(agentDir, { recursive: true, mode: 0o700 });
  const configFile = join(agentDir, 'config.json');
  const raw = {
    device: { id: DEMO_DEVICE },
    storage: { dir: join(agentDir, 'data'), maxBytes: 64 * 1024 * 1024, minFreeBytes: 16 * 1024 * 1024 },
    mqtt: {
      url: `mqtts://localhost:${port}`,
      ca: pki.ca,
      cert: join(agentDir, 'gw.crt'),
      key: join(agentDir, 'gw.key'),
      protocolVersion: 4,
    },
    sync: { ackTimeoutMs: 5000, backoffMinMs: 200, backoffMaxMs: 2000, connectTimeoutMs: 3000 },
    batching: { telemetry: { maxItems: 50, maxDelayMs: 500 } },
    health: { schedule: '*/5 * * * * *' },
    trust: { rootKey: trust.rootKey },
    log: { level: 'info' },
  };
  writeFileSync(configFile, `${JSON.stringify(raw, null, 2)}\n`);
  const config = parseConfig(raw, configFile);
  // As `enroll --keys` does: the agent knows the collector key before its first ack arrives.
  mkdirSync(config.storage.dir, { recursive: true, mode: 0o700 });
  const store = new TrustStore(config.storage.dir, trust.rootKey);
  store.load();
  applyKeysDocument(trust.keysDocument, {
    store,
    deviceId: DEMO_DEVICE,
    groups: [],
    nowMs: Date.now(),
    clockTrusted: true,
    maxBytes: config.trust.maxDocumentBytes,
  });
  if (!existsSync(config.identity.signingKey)) {
    await initIdentity(
      { signingKey: config.identity.signingKey, tlsKey: config.mqtt.key, csr: config.identity.csr },
      DEMO_DEVICE,
    );
  }
  const caPair = {
    certPem: readFileSync(pki.ca, 'utf8'),
    keyPem: readFileSync(join(dir, 'pki', 'ca.key'), 'utf8'),
  };
  once(config.mqtt.cert, () =>
    signCsr(caPair, readFileSync(config.identity.csr, 'utf8'), { expectCn: DEMO_DEVICE }),
  );
  const id = describeIdentity(DEMO_DEVICE, {
    signingKey: config.identity.signingKey,
    csr: config.identity.csr,
    cert: config.mqtt.cert,
  });
  const registry = join(dir, 'registry.json');
  writeFileSync(
    registry,
    `${JSON.stringify([{ deviceId: id.deviceId, signingPublicKey: id.signingPublicKey }], null, 2)}\n`,
  );
  return { config, configFile, registry };
}
