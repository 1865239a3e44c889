import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { auditContext, runAudit } from '../../agent/src/audit/index.js';
import { parseConfig } from '../../agent/src/config/index.js';
import { freePort, MOSQUITTO } from '../../scripts/lib/mosquitto.js';
import { cli } from '../helpers/agent.js';
import { makeGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';
import { World } from '../helpers/world.js';

describe('integrity and audit, end to end', () => {
  const w = new World();
  const root = join(w.t.dir, 'gw');
  before(async () => {
    makeGateway(root, 'hardened', readFileSync(w.pki.caFile, 'utf8'));
    await w.setup();
    w.writeAgentConfig({
      monitor: { root, auth: { source: 'off' }, listeners: { enabled: false } },
      integrity: { paths: ['/etc/passwd', '/etc/ssh'], schedule: '*/1 * * * * *' },
    });
    await w.broker.start();
    await w.startCollector();
  });
  after(async () => {
    await w.close();
  });

  it('a file changed on the gateway reaches the collector as a verified integrity event and report', async () => {
    assert.equal(cli(['integrity', 'baseline'], { config: w.config }).code, 0);
    await w.startAgent();
    writeFileSync(join(root, 'etc/ssh/sshd_config'), 'PermitRootLogin yes\n');
    const found = await waitFor(
      async () => {
        const batches = await w.collectorBatches([2, 3]);
        const ev = batches
          .flatMap((b) => b.events)
          .find((e) => e.type === 'integrity.modified' && e.subject === '/etc/ssh/sshd_config');
        const rep = batches
          .map((b) => b.report)
          .find(
            (r) => r?.kind === 'integrity' && JSON.parse(Buffer.from(r.body).toString()).changes.length > 0,
          );
        return ev && rep && { ev, rep: JSON.parse(Buffer.from(rep.body).toString()) };
      },
      'the integrity event at the collector',
      30_000,
    );
    assert.equal(found.ev.severity, 4);
    assert.match(found.ev.details.detail, /sha256/);
    assert.match(found.rep.baselineDigest, /^[0-9a-f]{64}$/);
  });

  it('the active broker probe: a real mTLS Mosquitto passes, a plaintext one fails', async () => {
    const cfg = parseConfig(JSON.parse(readFileSync(w.config, 'utf8')), w.config);
    const good = await runAudit(
      auditContext('/', { ...cfg, audit: { ...cfg.audit, plaintextPorts: [await freePort()] } }),
      Date.now(),
    );
    const t = good.checks.find((c) => c.id === 'transport.mqtt');
    assert.equal(t?.status, 'pass', JSON.stringify(t?.evidence));
    assert.match(
      t?.evidence.map((e) => e.text).join('|') ?? '',
      /a TLS client without a certificate was refused/,
    );

    const port = await freePort();
    const conf = join(w.t.dir, 'plain.conf');
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\n`);
    const plain = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
    try {
      await waitFor(
        async () =>
          (
            await runAudit(
              auditContext('/', { ...cfg, audit: { ...cfg.audit, plaintextPorts: [port] } }),
              Date.now(),
            )
          ).checks.find((c) => c.id === 'transport.mqtt')?.status === 'fail',
        'the plaintext listener to be found',
        10_000,
      );
      const bad = await runAudit(
        auditContext('/', { ...cfg, audit: { ...cfg.audit, plaintextPorts: [port] } }),
        Date.now(),
      );
      const tb = bad.checks.find((c) => c.id === 'transport.mqtt');
      assert.match(
        tb?.evidence.map((e) => `${e.file} ${e.text}`).join('|') ?? '',
        new RegExp(
          `127\\.0\\.0\\.1:${port} the broker offers plaintext MQTT|localhost:${port} the broker offers plaintext MQTT`,
        ),
      );
    } finally {
      plain.kill('SIGKILL');
    }
  });
});
