import assert from 'node:assert/strict';
import {
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import type { AgentStatus } from '../../agent/src/daemon/index.js';
import { makeCabinet } from '../helpers/cabinet.js';
import { docKey, installProfiles, makeDoc, shippedProfiles } from '../helpers/trust.js';
import { waitFor } from '../helpers/wait.js';
import { World } from '../helpers/world.js';

/**
 * Fault injection per optional capability through the real daemon, Mosquitto and
 * the reference collector: the daemon stays up, readings keep arriving, the
 * right event reaches the collector, and `status --json` names what failed.
 */
describe('one failing capability never costs telemetry', () => {
  const w = new World();
  const cabinet = join(w.t.dir, 'cabinet');
  const data = join(w.agentDir, 'data');
  const profilesKey = docKey();
  const configKey = docKey();
  let platform: MqttClient;
  const statuses: { version: number; state: string; reason?: string }[] = [];
  const events = () => w.collectorEvents();
  const capabilities = () => (w.status() as unknown as AgentStatus).capabilities ?? [];
  const readingsArrive = (values: number[]) => w.readingsArrive(values);

  before(async () => {
    makeCabinet(cabinet);
    await w.setup();
    w.writeAgentConfig({
      monitor: {
        root: cabinet,
        auth: { source: 'off' },
        listeners: { enabled: false },
        door: { path: 'sys/class/gpio/gpio17/value' },
      },
      sensors: { enabled: true, schedule: '0 0 * * * *' },
      // The certificate read every second, so a damaged file shows within the test.
      identity: { checkIntervalS: 1 },
    });
    installProfiles(data, w.root, profilesKey, 5, w.collectorKey);
    writeFileSync(join(data, 'inventory.db'), Buffer.alloc(8192, 0x5a));
    await w.broker.start();
    await w.startCollector();
    platform = await w.platformClient('platform');
    await platform.subscribeAsync(`edge/v1/${w.deviceId}/config/status`, { qos: 1 });
    platform.on('message', (_t, p) => statuses.push(JSON.parse(p.toString())));
  });
  after(async () => {
    await platform?.endAsync();
    await w.close();
  });

  it('a corrupt inventory.db is quarantined and an unreadable door GPIO reported, while readings flow', async () => {
    await w.startAgent();
    await readingsArrive([1, 2, 3]);
    const ev = await waitFor(async () => {
      const e = await events();
      return (
        e.some((x) => x.type === 'agent.state_quarantined') &&
        e.some((x) => x.type === 'agent.capability_failed') &&
        e
      );
    }, 'the quarantine and the door failure at the collector');
    const q = ev.find((e) => e.type === 'agent.state_quarantined');
    assert.equal(q?.subject, 'inventory.db');
    assert.match(q?.details.aside ?? '', /inventory\.db\.quarantined-\d+$/);
    assert.ok(existsSync(q?.details.aside ?? ''), 'the corrupt file is kept for a technician');
    const door = ev.find((e) => e.type === 'agent.capability_failed');
    assert.deepEqual(door?.details, { capability: 'door-monitor', code: 'ENOENT' });
    const c = capabilities().find((x) => x.name === 'door-monitor');
    assert.equal(c?.state, 'failed');
    assert.equal(c?.error?.code, 'ENOENT');
    assert.equal(
      capabilities().find((x) => x.name === 'sensors')?.state,
      'running',
      'inventory started afresh',
    );
    await waitFor(
      async () => (await w.collectorBatches([3])).some((b) => b.report?.kind === 'inventory'),
      'an inventory report after the quarantine',
    );
    await readingsArrive([4, 5, 6]);
  });

  it('a garbage certificate file raises cert.unreadable and names cert-renewal; the open session carries readings', async () => {
    const cert = join(w.agentDir, 'gw.crt');
    const good = readFileSync(cert);
    writeFileSync(cert, 'garbage where the client certificate was\n');
    const ev = await waitFor(
      async () => (await events()).find((e) => e.type === 'cert.unreadable'),
      'cert.unreadable at the collector',
    );
    assert.match(ev.details.problem, /^not a certificate/);
    const failed = await waitFor(
      async () =>
        (await events()).find((e) => e.type === 'agent.capability_failed' && e.subject === 'cert-renewal'),
      'the capability failure at the collector',
    );
    assert.deepEqual(failed.details, { capability: 'cert-renewal', code: 'CERT_UNREADABLE' });
    const c = capabilities().find((x) => x.name === 'cert-renewal');
    assert.equal(c?.state, 'failed');
    assert.equal(c?.error?.code, 'CERT_UNREADABLE');
    await readingsArrive([21, 22, 23]);
    assert.equal(w.daemon?.exitCode, null, 'the daemon is up');
    writeFileSync(cert, good);
    await waitFor(
      () => capabilities().find((x) => x.name === 'cert-renewal')?.state === 'running',
      'cert-renewal works again once the file is restored',
    );
  });

  it('a sensor discovery that throws names sensors, reports no false removals, and is retried until it works', async () => {
    await w.stopAgent();
    const usb = join(cabinet, 'sys/bus/usb/devices');
    renameSync(usb, `${usb}.aside`);
    // A loop where the bus folder should be: listing it fails with ELOOP, which is no absence.
    symlinkSync('devices', usb);
    const removed = async () => (await events()).filter((e) => e.type === 'sensor.removed').length;
    const removedBefore = await removed();
    await w.startAgent();
    const failed = await waitFor(
      async () =>
        (await events()).find((e) => e.type === 'agent.capability_failed' && e.subject === 'sensors'),
      'the sensors failure at the collector',
    );
    assert.deepEqual(failed.details, { capability: 'sensors', code: 'DISCOVERY_FAILED' });
    const c = capabilities().find((x) => x.name === 'sensors');
    assert.equal(c?.state, 'failed');
    assert.equal(c?.error?.code, 'DISCOVERY_FAILED');
    assert.match(c?.error?.message ?? '', /usb\/devices \(ELOOP\)/);
    await readingsArrive([31, 32, 33]);
    rmSync(usb);
    renameSync(`${usb}.aside`, usb);
    // Retried 5 s after the failure (then 10 s), not at the next hourly run.
    await waitFor(
      () => capabilities().find((x) => x.name === 'sensors')?.state === 'running',
      'sensors working again on a retry',
      30_000,
    );
    assert.equal(await removed(), removedBefore, 'no sensor was reported unplugged');
    assert.equal(w.daemon?.exitCode, null, 'the daemon is up');
  });

  it('two documents of different types keep both version floors: an older profiles bundle is refused', async () => {
    const publish = (doc: Buffer) =>
      platform.publishAsync(`edge/v1/${w.deviceId}/config`, doc, { qos: 1, retain: true });
    await publish(makeDoc('keys', 2, { roles: { config: { publicKeys: [configKey.b64] } } }, w.root));
    await publish(
      makeDoc('config', 1, { batching: { telemetry: { maxItems: 20, maxDelayMs: 50 } } }, configKey),
    );
    await waitFor(() => statuses.find((s) => s.version === 1 && s.state === 'applied'), 'config v1 applied');
    await w.stopAgent();
    const seen = JSON.parse(readFileSync(join(data, 'trust.json'), 'utf8')).seen;
    assert.equal(seen.profiles, 5, 'the profiles floor survived the config apply');
    assert.equal(seen.config, 1);
    assert.equal(seen.keys, 2);
    writeFileSync(
      join(data, 'profiles-bundle.json'),
      makeDoc('profiles', 4, { profiles: shippedProfiles() }, profilesKey),
    );
    await w.startAgent();
    const refused = await waitFor(
      async () =>
        (await events()).find(
          (e) => e.type === 'profiles.rejected' && /STALE_VERSION/.test(e.details.reason),
        ),
      'the replayed profiles bundle refused',
    );
    assert.match(refused.details.reason, /^STALE_VERSION/);
    await readingsArrive([7, 8]);
  });

  it('a corrupt trust.json refuses every document and raises trust.store_corrupt; telemetry carries on', async () => {
    await w.stopAgent();
    writeFileSync(join(data, 'trust.json'), '{"root": [');
    await w.startAgent();
    const ev = await waitFor(
      async () => (await events()).find((e) => e.type === 'trust.store_corrupt'),
      'trust.store_corrupt at the collector',
    );
    assert.match(ev.details.quarantined, /trust\.json\.quarantined-\d+$/);
    assert.ok(readdirSync(data).includes('trust.json.corrupt'));
    assert.equal(capabilities().find((x) => x.name === 'trust')?.error?.code, 'TRUST_STORE_CORRUPT');
    await readingsArrive([9, 10, 11]);
    await platform.publishAsync(
      `edge/v1/${w.deviceId}/config`,
      makeDoc('config', 2, { log: { level: 'info' } }, configKey),
      { qos: 1, retain: true },
    );
    // Refused before its signature is read, so no version is known (0) and none is spent.
    const s = await waitFor(
      () => statuses.find((x) => x.state === 'rejected' && /^STORE_CORRUPT/.test(x.reason ?? '')),
      'the config refused',
    );
    assert.equal(s.version, 0);
    assert.ok(!existsSync(join(data, 'trust.json')), 'no store with empty floors was written');
  });

  it('a corrupt sync-state.json is quarantined and reported, never silently overwritten', async () => {
    await w.stopAgent();
    const file = join(data, 'sync-state.json');
    assert.ok(existsSync(file), 'the daemon keeps its link state');
    writeFileSync(file, '{"state": "up", "url": ');
    await w.startAgent();
    const ev = await waitFor(
      async () =>
        (await events()).find((e) => e.type === 'agent.state_quarantined' && e.subject === 'sync-state.json'),
      'the quarantine at the collector',
    );
    assert.match(ev.details.aside, /sync-state\.json\.quarantined-\d+$/);
    assert.match(ev.details.reason, /^not JSON/);
    assert.equal(readFileSync(ev.details.aside, 'utf8'), '{"state": "up", "url": ', 'kept for a technician');
    await readingsArrive([41, 42, 43]);
    await waitFor(() => existsSync(file), 'the link state written afresh');
  });
});
