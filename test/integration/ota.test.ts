import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { freePort } from '../../scripts/lib/mosquitto.js';
import { docKey, makeDoc } from '../helpers/trust.js';
import { waitFor } from '../helpers/wait.js';
import { World } from '../helpers/world.js';

describe('signed remote configuration through Mosquitto', () => {
  const w = new World();
  const root = docKey();
  const k1 = docKey();
  const k2 = docKey();
  let platform: MqttClient;
  const statuses: { version: number; state: string; reason?: string }[] = [];
  const publish = (doc: Buffer) =>
    platform.publishAsync('edge/v1/gw-test/config', doc, { qos: 1, retain: true });
  const configVersion = () => (w.status() as unknown as { configVersion?: number }).configVersion;

  before(async () => {
    await w.setup();
    w.writeAgentConfig({ trust: { rootKey: root.b64, rollbackAfterS: 5 } });
    await w.broker.start();
    await w.startAgent();
    platform = await w.platformClient('platform');
    await platform.subscribeAsync('edge/v1/gw-test/config/status', { qos: 1 });
    platform.on('message', (_t, p) => statuses.push(JSON.parse(p.toString())));
    await waitFor(() => w.status().link?.state === 'connected', 'the agent online');
  });
  after(async () => {
    await platform?.endAsync();
    await w.close();
  });

  it('applies a config signed by the config role key and acknowledges it', async () => {
    await publish(makeDoc('keys', 1, { roles: { config: { publicKeys: [k1.b64] } } }, root));
    await publish(makeDoc('config', 1, { batching: { telemetry: { maxItems: 7, maxDelayMs: 50 } } }, k1));
    await waitFor(() => statuses.find((s) => s.version === 1 && s.state === 'applied'), 'applied v1');
    assert.equal(configVersion(), 1);
    assert.equal(w.ingest(Array.from({ length: 21 }, (_, i) => i)).code, 0);
    const tel = w.status().buffer.streams.find((s) => s.stream === 'telemetry');
    assert.ok((tel?.lastSeq ?? 0) >= 3, 'batches of at most 7 now');
  });

  it('rejects a document signed by an unknown key, with the reason, and changes nothing', async () => {
    await publish(makeDoc('config', 2, { log: { level: 'debug' } }, docKey()));
    const s = await waitFor(() => statuses.find((x) => x.state === 'rejected'), 'a rejection');
    assert.match(s.reason ?? '', /^BAD_SIGNATURE: no valid signature by a current config key/);
    assert.equal(configVersion(), 1);
  });

  it('rolls back a connectivity change that breaks the link, reports it once connected, and does not apply it again', async () => {
    const dead = await freePort();
    await publish(makeDoc('config', 3, { mqtt: { url: `mqtts://localhost:${dead}` } }, k1));
    await waitFor(() => w.status().link?.lastError?.code === 'TCP_REFUSED', 'the broken link', 15_000);
    const rolled = await waitFor(() => statuses.find((s) => s.version === 3), 'the rollback report', 30_000);
    assert.equal(rolled.state, 'rolled_back');
    assert.match(rolled.reason ?? '', /not reached within 5 s/);
    await waitFor(() => w.status().link?.state === 'connected', 'back online with the old URL');
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(statuses.filter((s) => s.version === 3).length, 1, 'the retained v3 is not applied again');
    assert.equal(configVersion(), 1);
    assert.equal(w.status().link?.state, 'connected');
  });

  it('a kill at each step of an apply leaves the old or the new config, never a mix', async () => {
    const steps = ['before-last-good', 'after-last-good', 'after-current', 'after-rebuild'];
    let version = 10;
    for (const step of steps) {
      version++;
      await w.stopAgent();
      const d = await w.startAgent({ EDGE_AGENT_CRASH_AT: step });
      await waitFor(() => w.status().link?.state === 'connected', 'online');
      const before = configVersion();
      await publish(
        makeDoc('config', version, { batching: { telemetry: { maxItems: version, maxDelayMs: 50 } } }, k1),
      );
      const exit = await new Promise<string | null>((r) => d.once('exit', (_c, sig) => r(sig)));
      assert.equal(exit, 'SIGKILL', `died at ${step}`);
      w.daemon = undefined;
      const file = join(w.agentDir, 'data', 'remote-config.json');
      const cur = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { version: 0 };
      assert.ok(
        cur.version === before || cur.version === version,
        `${step}: version ${cur.version} is the old ${before} or the new ${version}`,
      );
      if (cur.version === version)
        assert.deepEqual(cur.settings, { batching: { telemetry: { maxItems: version, maxDelayMs: 50 } } });
      await w.startAgent();
      await waitFor(
        () => configVersion() === version,
        `${step}: the new config in force after a restart`,
        20_000,
      );
    }
  });

  it('a new keys document revokes the config key: its documents are refused afterwards', async () => {
    await publish(makeDoc('keys', 2, { roles: { config: { publicKeys: [k2.b64] } } }, root));
    await publish(makeDoc('config', 20, { log: { level: 'warn' } }, k1));
    await waitFor(
      () =>
        statuses.filter((s) => s.state === 'rejected' && s.reason?.startsWith('BAD_SIGNATURE')).length >= 2,
      'v4 by the revoked key refused',
    );
    await publish(makeDoc('config', 20, { log: { level: 'warn' } }, k2));
    await waitFor(
      () => statuses.find((s) => s.version === 20 && s.state === 'applied'),
      'v4 by the new key applied',
    );
    assert.equal(configVersion(), 20);
  });

  it('a config with a schedule that is no cron expression is rejected, and the agent stays on its last good state', async () => {
    await publish(makeDoc('config', 21, { health: { enabled: true, schedule: 'x x x x x x' } }, k2));
    const s = await waitFor(() => statuses.find((x) => x.version === 21), 'the verdict on v21');
    assert.equal(s.state, 'rejected');
    assert.match(s.reason ?? '', /^SCHEMA: .*health\.schedule: is not a cron expression/);
    assert.equal(configVersion(), 20);
    assert.equal(w.status().link?.state, 'connected');
  });

  it("a replayed v1000 for another device spends none of this device's versions: v22 is applied after it", async () => {
    await publish(
      makeDoc('config', 1000, { log: { level: 'warn' } }, k2, { target: { devices: ['gw-other'] } }),
    );
    const s = await waitFor(() => statuses.find((x) => x.version === 1000), 'the verdict on the replay');
    assert.match(s.reason ?? '', /^NOT_TARGETED/);
    await publish(makeDoc('config', 22, { log: { level: 'warn' } }, k2));
    await waitFor(() => statuses.find((x) => x.version === 22 && x.state === 'applied'), 'v22 applied');
    assert.equal(configVersion(), 22);
  });
});
