import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { classify } from '../../agent/src/sync/index.js';
import { TestBroker } from '../../scripts/lib/mosquitto.js';
import { TestPki } from '../../scripts/lib/test-pki.js';
import { waitFor } from '../helpers/wait.js';
import { exactlyOnce, range, World } from '../helpers/world.js';

const connectionsOf = (log: string, cn: string) =>
  log.split('\n').filter((l) => l.includes('New client connected') && l.includes(` as ${cn} `)).length;

describe('TLS faults: a distinct error for each, nothing accepted, data kept until fixed', () => {
  const w = new World();
  const other = new TestPki(join(w.t.dir, 'other-pki'));
  let expiredBroker: TestBroker;
  let sent = 0;
  before(async () => {
    await w.setup();
    await w.broker.start();
    await w.startCollector();
    const expired = w.pki.serverCert('expired', {
      notBefore: new Date(Date.now() - 3 * 86_400_000),
      days: 1,
    });
    expiredBroker = new TestBroker(w.t.dir, w.pki, { server: expired, name: 'expired' });
    await expiredBroker.start();
  });
  after(async () => {
    await expiredBroker.kill();
    await w.close();
  });

  const fault = async (name: string, mqttOverride: Record<string, unknown>, expected: string) => {
    await w.stopAgent();
    w.writeAgentConfig({}, mqttOverride);
    await w.startAgent();
    assert.equal(w.ingest(range(sent, sent + 100)).code, 0);
    sent += 100;
    const s = await waitFor(() => {
      const st = w.status();
      return st.link?.lastError && st;
    }, `${name}: an error in status`);
    assert.equal(s.link?.lastError?.code, expected, `${name}: ${JSON.stringify(s.link?.lastError)}`);
    assert.notEqual(s.link?.state, 'connected');
  };

  it('refuses each fault with its own code and connects once fixed', async () => {
    const before = connectionsOf(w.broker.log(), 'gw-test') + connectionsOf(expiredBroker.log(), 'gw-test');
    const wrongCa = other.caFile;
    await fault('wrong CA', { ca: wrongCa }, 'SERVER_CERT_UNTRUSTED');
    await fault(
      'wrong server name',
      { url: `mqtts://127.0.0.1:${w.broker.port}`, servername: 'wrong.example' },
      'SERVER_NAME_MISMATCH',
    );
    await fault('expired server certificate', { url: expiredBroker.url }, 'SERVER_CERT_EXPIRED');
    const foreign = other.client('gw-test');
    await fault(
      'client certificate from another CA',
      { cert: foreign.cert, key: foreign.key },
      'CLIENT_CERT_REFUSED',
    );
    // A listener that accepts TCP and then says nothing: only the agent's own timer ends the attempt.
    const silent = createServer(() => undefined).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      await fault(
        'no CONNACK',
        { url: `mqtts://localhost:${(silent.address() as AddressInfo).port}` },
        'CONNACK_TIMEOUT',
      );
    } finally {
      silent.close();
    }

    // Checked on the broker's side: no CONNECT of this device was ever accepted, nothing stored.
    const after = connectionsOf(w.broker.log(), 'gw-test') + connectionsOf(expiredBroker.log(), 'gw-test');
    assert.equal(after, before);
    assert.equal(w.collector?.stats.batches, 0);
    const buffered = w.status().buffer.streams.find((s) => s.stream === 'telemetry');
    assert.equal(buffered?.pending.items, sent, 'everything is still buffered');

    await w.stopAgent();
    w.writeAgentConfig();
    await w.startAgent();
    await waitFor(() => w.bufferedRows() === 0, 'delivery once the fault is fixed');
    assert.equal(exactlyOnce((await w.stored()).values, sent), null);
    assert.ok(connectionsOf(w.broker.log(), 'gw-test') > 0);
  });

  it('a client without a certificate gets no CONNACK', async () => {
    const c = mqtt.connect(w.broker.url, {
      ca: readFileSync(w.pki.caFile),
      reconnectPeriod: 0,
      protocolVersion: 5,
      connectTimeout: 5000,
    });
    const outcome = await new Promise<{ connected: boolean; err?: Error }>((resolve) => {
      c.once('connect', () => resolve({ connected: true }));
      c.once('error', (err) => resolve({ connected: false, err }));
      c.once('close', () => resolve({ connected: false }));
    });
    c.end(true);
    assert.equal(outcome.connected, false);
    assert.ok(outcome.err, 'the refusal surfaces as an error');
    assert.equal(classify(outcome.err, 'broker').code, 'CLIENT_CERT_REFUSED', outcome.err.message);
    assert.doesNotMatch(w.broker.log(), /New client connected .* as (?!collector|gw-test)/);
  });
});

describe('the ACL and the collector refuse what is not theirs', () => {
  const w = new World();
  before(async () => {
    await w.setup();
    await w.broker.start();
    await w.startCollector();
    await w.startAgent();
    assert.equal(w.ingest(range(0, 300)).code, 0);
    await waitFor(() => w.bufferedRows() === 0, 'the first delivery');
  });
  after(async () => {
    await w.close();
  });

  const clientAs = async (cn: string) => {
    const id = w.pki.client(cn);
    const c = mqtt.connect(w.broker.url, {
      ca: readFileSync(w.pki.caFile),
      cert: readFileSync(id.cert),
      key: readFileSync(id.key),
      protocolVersion: 5,
      reconnectPeriod: 0,
      clientId: `${cn}-test`,
    });
    await new Promise((resolve, reject) => {
      c.once('connect', resolve);
      c.once('error', reject);
    });
    return c;
  };
  const storedEnvelope = async (): Promise<Buffer> => {
    const first = (await w.storedBatches()).filter((b) => b.stream === 1).sort((x, y) => x.seq - y.seq)[0];
    return Buffer.from(first.envelope);
  };

  it("refuses a device publishing on another device's topics", async () => {
    const c = await clientAs('gw-intruder');
    const env0 = await storedEnvelope();
    const err = await new Promise<Error | undefined>((resolve) =>
      c.publish('edge/v1/gw-test/telemetry', env0, { qos: 1 }, (e) => resolve(e ?? undefined)),
    );
    await c.endAsync();
    assert.ok(err, 'the broker refused the publish');
    assert.equal((err as Error & { code?: number }).code, 0x87, 'not authorized');
    assert.match(w.broker.log(), /Denied PUBLISH from gw-intruder/);
  });

  it('rejects and counts a tampered envelope, stores a replayed one once', async () => {
    const c = await clientAs('gw-test');
    const env = await storedEnvelope();
    const tampered = Buffer.from(env);
    tampered[tampered.length - 20] ^= 0x01;
    const batchesBefore = w.collector!.stats.batches;
    await c.publishAsync('edge/v1/gw-test/telemetry', tampered, { qos: 1 });
    await c.publishAsync('edge/v1/gw-test/telemetry', env, { qos: 1 });
    await c.publishAsync('edge/v1/gw-test/events', env, { qos: 1 }); // telemetry batch on the events topic
    await c.endAsync();
    const s = await waitFor(() => {
      const st = w.collector!.stats;
      return (
        st.duplicates >= 1 &&
        (st.rejected.BAD_SIGNATURE ?? 0) + (st.rejected.BAD_ENCODING ?? 0) >= 1 &&
        (st.rejected.STREAM_MISMATCH ?? 0) >= 1 &&
        st
      );
    }, 'the collector to judge the three messages');
    assert.equal(s.batches, batchesBefore, 'nothing new stored');
    assert.equal(exactlyOnce((await w.stored()).values, 300), null);
  });
});
