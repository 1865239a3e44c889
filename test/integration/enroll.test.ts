import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../scripts/lib/mosquitto.js';
import { cli } from '../helpers/agent.js';
import { makeGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';
import { World } from '../helpers/world.js';

describe('enroll: from an empty data dir to a commissioned gateway', () => {
  const w = new World({ deviceId: 'gw-enroll' });
  const root = join(w.t.dir, 'gw');
  before(async () => {
    makeGateway(root, 'hardened', readFileSync(w.pki.caFile, 'utf8'));
    // The audit reads the agent's files under the gateway root, as on a real gateway where the root is /.
    mkdirSync(join(root, dirname(w.pki.caFile)), { recursive: true });
    copyFileSync(w.pki.caFile, join(root, w.pki.caFile));
    w.broker.port = await freePort();
    w.writeAgentConfig({
      monitor: { root, auth: { source: 'off' }, listeners: { enabled: false, allow: ['tcp/22'] } },
      integrity: { paths: ['/etc/passwd', '/etc/ssh'] },
      audit: { enabled: false, plaintextPorts: [await freePort()] },
    });
    await w.broker.start();
  });
  after(async () => {
    await w.close();
  });

  it('prints the CSR and registry line first, then verifies the certificate, tests the connection and sends a commissioning report', async () => {
    const first = cli(['enroll'], { config: w.config });
    assert.equal(first.code, 1, 'not commissioned yet: waiting for the certificate');
    assert.match(first.stdout, /identity created/);
    assert.match(
      first.stdout,
      /registry line: \{"deviceId":"gw-enroll","signingPublicKey":"[A-Za-z0-9+/=]{44}"\}/,
    );
    assert.match(first.stdout, /-----BEGIN CERTIFICATE REQUEST-----/);
    const registry = JSON.parse(/registry line: (.*)/.exec(first.stdout)?.[1] ?? '{}');
    w.pki.signCsr(
      readFileSync(join(w.agentDir, 'data/identity/tls.csr'), 'utf8'),
      join(w.agentDir, 'gw.crt'),
    );
    const second = cli(['enroll', '--json'], { config: w.config });
    const out = JSON.parse(second.stdout);
    assert.equal(second.code, 0, JSON.stringify(out.report?.audit ?? out));
    assert.equal(out.stage, 'commissioned');
    assert.equal(out.report.connection, 'ok');
    assert.equal(out.report.integrity.created, true);
    assert.equal(out.report.audit.score, 100);
    assert.match(out.sent, /outbox/);

    // The platform side: the registry line goes in, the agent starts, the report arrives verified.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(w.registryFile, JSON.stringify([registry]));
    await w.startCollector();
    await w.startAgent();
    const report = await waitFor(async () => {
      // Verified again with the key from the registry line (collectorBatches uses the registry file).
      return (await w.collectorBatches([3])).map((b) => b.report).find((r) => r?.kind === 'commissioning');
    }, 'the commissioning report at the collector');
    const body = JSON.parse(Buffer.from(report.body).toString());
    assert.equal(body.deviceId, 'gw-enroll');
    assert.equal(body.connection, 'ok');
  });
});
