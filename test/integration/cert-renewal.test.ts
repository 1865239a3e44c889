import assert from 'node:assert/strict';
import { createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { checkIssued, makeCsr, makeTlsKey } from '../../agent/src/identity/index.js';
import { keyIdOf, rawPublicKey } from '../../agent/src/telemetry/index.js';
import { createCa, signCsr } from '../../scripts/pki/lib.js';
import { cli } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import { exactlyOnce, range, World } from '../helpers/world.js';

describe('certificate lifecycle', () => {
  const w = new World();
  before(async () => {
    await w.setup();
    // A certificate 20 days into a 25-day life: past two thirds, 5 days left.
    w.pki.signCsr(
      readFileSync(join(w.agentDir, 'data/identity/tls.csr'), 'utf8'),
      join(w.agentDir, 'gw.crt'),
      {
        notBefore: new Date(Date.now() - 20 * 86_400_000),
        days: 25,
      },
    );
    await w.broker.start();
    await w.startCollector({ caMode: true });
  });
  after(async () => {
    await w.close();
  });

  it("a certificate near expiry is renewed through the collector's CA mode; the agent reconnects with it and loses no reading", async () => {
    const before = new X509Certificate(readFileSync(join(w.agentDir, 'gw.crt')));
    await w.startAgent();
    assert.equal(w.ingest(range(0, 500)).code, 0);
    const renewed = await waitFor(
      () => {
        const c = new X509Certificate(readFileSync(join(w.agentDir, 'gw.crt')));
        return c.serialNumber !== before.serialNumber && c;
      },
      'the new certificate in place',
      30_000,
    );
    assert.ok(Date.parse(renewed.validTo) - Date.now() > 300 * 86_400_000);
    assert.equal(renewed.subject, 'CN=gw-test');
    assert.ok(
      renewed.checkPrivateKey(createPrivateKey(readFileSync(join(w.agentDir, 'gw.key')))),
      'the new key is in place',
    );
    assert.equal(w.collector?.issued, 1);
    await waitFor(() => w.status().link?.state === 'connected', 'connected with the new certificate');
    assert.equal(w.ingest(range(500, 1000)).code, 0);
    await waitFor(() => w.bufferedRows() === 0, 'delivery');
    assert.equal(exactlyOnce((await w.stored()).values, 1000), null);
    const events = (await w.collectorBatches([2])).flatMap((b) =>
      b.events.map((e) => `${e.type}${e.details.days ? `:${e.details.days}` : ''}`),
    );
    for (const e of ['cert.expiring:7', 'cert.renewed'])
      assert.ok(events.includes(e), `${e} in ${events.join(', ')}`);
    assert.ok(!events.includes('cert.expiring:30'), 'with 5 days left only the 7-day warning is news');
  });

  it('refuses a certificate for another device, from another CA, or not matching the key', async () => {
    const key = makeTlsKey();
    const ca = { certPem: w.pki.ca.certPem, keyPem: w.pki.ca.keyPem };
    const other = createCa('another CA');
    const now = Date.now();
    const mine = signCsr(ca, await makeCsr(key, 'gw-test'));
    assert.equal(checkIssued(mine, ca.certPem, key, 'gw-test', now).ok, true);
    const cases: [string, string, string][] = [
      [signCsr(ca, await makeCsr(key, 'gw-other')), key, 'WRONG_DEVICE'],
      [signCsr(other, await makeCsr(key, 'gw-test')), key, 'WRONG_CA'],
      [mine, makeTlsKey(), 'KEY_MISMATCH'],
      [
        signCsr(ca, await makeCsr(key, 'gw-test'), { notBefore: new Date(now - 10 * 86_400_000), days: 1 }),
        key,
        'NOT_VALID_NOW',
      ],
      ['garbage', key, 'NOT_PEM'],
    ];
    for (const [pem, k, problem] of cases) {
      const r = checkIssued(pem, ca.certPem, k, 'gw-test', now);
      assert.equal(r.ok ? 'ok' : r.problem, problem);
    }
  });

  it("the collector refuses a CSR request on another device's topic", async () => {
    const id = w.pki.client('gw-b');
    const c = mqtt.connect(w.broker.url, {
      ca: readFileSync(w.pki.caFile),
      cert: readFileSync(id.cert),
      key: readFileSync(id.key),
      protocolVersion: 5,
      clientId: 'gw-b',
    });
    await new Promise((r) => c.once('connect', r));
    const sk = createPrivateKey(readFileSync(join(w.agentDir, 'data/identity/signing.key')));
    const signed = Buffer.from(
      JSON.stringify({
        type: 'csr',
        deviceId: 'gw-test',
        issuedAt: new Date().toISOString(),
        csr: await makeCsr(makeTlsKey(), 'gw-test'),
      }),
    );
    const body = JSON.stringify({
      signed: signed.toString('base64'),
      signatures: [{ keyId: keyIdOf(rawPublicKey(sk)), sig: sign(null, signed, sk).toString('base64') }],
    });
    await c.publishAsync('edge/v1/gw-b/cert/csr', body, { qos: 1 });
    await c.endAsync();
    await waitFor(() => (w.collector?.stats.rejected.CSR_BAD_SIGNATURE ?? 0) >= 1, 'the refusal');
    assert.equal(w.collector?.issued, 1, 'nothing issued');
    const r = cli(['identity', 'show', '--json'], { config: w.config });
    assert.equal(JSON.parse(r.stdout).certificate.subject, 'CN=gw-test');
  });
});
