import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Stream } from '../../../agent/src/core/index.js';
import { AlertBook, AlertSweep, DEFAULT_SWEEP } from '../../../platform/src/console/alerts/index.js';
import { migrateConsole } from '../../../platform/src/console/index.js';
import { Fleet } from '../../helpers/console-world.js';
import { type TestDb, testStore } from '../../helpers/platform-db.js';

for (const engine of ['postgres', 'pglite'] as const) {
  describe(`console alerts derived from the store (${engine})`, () => {
    let t: TestDb;
    let fleet: Fleet;
    let book: AlertBook;
    let now = Date.now();
    const clock = () => now;
    const one = async (device: string, type: string, state?: 'open' | 'acknowledged' | 'resolved') => {
      const list = (await book.list({ deviceId: device, ...(state ? { state } : {}) })).filter(
        (a) => a.type === type,
      );
      return list;
    };

    before(async () => {
      t = await testStore(engine);
      now = Date.now();
      await migrateConsole(t.db);
      fleet = new Fleet(t.store);
      book = new AlertBook(t.db, clock);
      await fleet.add('gw-1', { site: 'Rue Haute 1', lat: 50.84, lon: 4.35 });
      await fleet.add('gw-2', { certExpiresAt: new Date(now + 5 * 86_400_000).toISOString() });
    });
    after(() => t?.close());

    it('a door opened twice is one alert counted twice, citing the signed batch', async () => {
      await fleet.event('gw-1', 'tamper.door_open', 'cabinet-door', { gpio: '/sys/class/gpio/gpio17/value' });
      const seq = await fleet.event('gw-1', 'tamper.door_open', 'cabinet-door', {
        gpio: '/sys/class/gpio/gpio17/value',
      });
      const [a, ...rest] = await one('gw-1', 'door_open');
      assert.equal(rest.length, 0);
      assert.deepEqual([a.count, a.state, a.severity, a.subject], [2, 'open', 'high', 'cabinet-door']);
      assert.equal(a.evidence.seq, seq);
      assert.equal(a.evidence.stream, 'events');
      const [b] = await t.db.query<{ h: string }>(
        "SELECT encode(payload_hash, 'hex') AS h FROM batches WHERE device_id = 'gw-1' AND stream = 2 AND seq = $1",
        [seq],
      );
      assert.equal(a.evidence.payloadHash, b.h);
    });

    it('integrity changes alert per file; a vulnerable sensor alerts; unrelated events do not', async () => {
      await fleet.event('gw-1', 'integrity.modified', '/etc/passwd');
      await fleet.event('gw-1', 'integrity.perms_changed', '/etc/shadow');
      await fleet.event('gw-1', 'integrity.modified', '/etc/passwd');
      await fleet.event('gw-1', 'sensor.vulnerable', 'modbus:3', { firmware: '1.0.2' });
      await fleet.event('gw-1', 'agent.started', 'agent', {}, 1);
      const integ = await one('gw-1', 'integrity_change');
      assert.deepEqual(integ.map((a) => [a.subject, a.count]).sort(), [
        ['/etc/passwd', 2],
        ['/etc/shadow', 1],
      ]);
      const [v] = await one('gw-1', 'vulnerable_firmware');
      assert.equal(v.subject, 'modbus:3');
      const all = await book.list({ deviceId: 'gw-1' });
      assert.ok(all.every((a) => a.type !== 'agent.started'));
    });

    it('a posture score drop between audit reports alerts; a malformed report stores and alerts nothing', async () => {
      await fleet.report('gw-1', 'audit', { score: 92, checks: [] });
      await fleet.report('gw-1', 'audit', { score: 95, checks: [] });
      assert.equal((await one('gw-1', 'posture_drop')).length, 0, 'a rise is no drop');
      await fleet.report('gw-1', 'audit', { score: 61, checks: [] });
      const [p] = await one('gw-1', 'posture_drop');
      assert.deepEqual([p.severity, p.evidence.from, p.evidence.to], ['high', 95, 61]);
      const seq = await fleet.report('gw-1', 'audit', 'this is {not json');
      const stored = await t.db.query(
        "SELECT 1 FROM reports WHERE device_id = 'gw-1' AND kind = 'audit' AND seq = $1",
        [seq],
      );
      assert.equal(stored.length, 1, 'the report was stored all the same');
      assert.equal((await one('gw-1', 'posture_drop'))[0].count, 1);
    });

    it('a conflicting batch the collector reports becomes a critical alert', async () => {
      await t.store.alert(
        'gw-2',
        'conflicting_duplicate',
        'stream 2 epoch 1 seq 3 arrived again with another payload',
      );
      await t.store.alert(
        'gw-2',
        'conflicting_duplicate',
        'stream 2 epoch 1 seq 4 arrived again with another payload',
      );
      const [c] = await one('gw-2', 'conflicting_batch');
      assert.deepEqual([c.subject, c.severity, c.count], ['stream 2 epoch 1', 'critical', 2]);
    });

    it('the sweep finds offline gateways, expiring certificates and unexplained gaps, counting only new occurrences', async () => {
      const sweep = new AlertSweep(t.db, clock, book, DEFAULT_SWEEP);
      await t.store.recordStatus('gw-1', { state: 'offline', version: '0.1.0' });
      await fleet.send('gw-2', Stream.TELEMETRY, []);
      fleet.seal('gw-2', Stream.TELEMETRY, []);
      await fleet.send('gw-2', Stream.TELEMETRY, []);
      assert.ok((await sweep.run()) >= 2);
      assert.equal((await one('gw-2', 'unexplained_gap')).length, 0, 'a fresh gap is given time to close');
      now = Date.now() + DEFAULT_SWEEP.gapGraceMs + 1000;
      await sweep.run();
      const [gap] = await one('gw-2', 'unexplained_gap');
      assert.deepEqual(
        [gap.subject, gap.evidence.missing, gap.evidence.contiguous],
        ['stream 1 epoch 1', 1, 1],
      );
      const [cert] = await one('gw-2', 'certificate_expiring');
      assert.equal(cert.severity, 'high');
      const [off] = await one('gw-1', 'device_offline');
      assert.equal(off.count, 1);
      assert.equal(await sweep.run(), 0, 'nothing new: nothing counted');
      await t.store.recordStatus('gw-1', { state: 'online', version: '0.1.0' });
      await new Promise((r) => setTimeout(r, 5));
      await t.store.recordStatus('gw-1', { state: 'offline', version: '0.1.0' });
      await sweep.run();
      assert.equal((await one('gw-1', 'device_offline'))[0].count, 2, 'offline again: counted');
    });

    it('moves open -> acknowledged -> resolved with assignee and note; a new occurrence opens a new alert', async () => {
      const [door] = await one('gw-1', 'door_open');
      const ack = await book.acknowledge(door.id, 'alice', { note: 'technician on site?' });
      assert.deepEqual(
        [ack.state, ack.assignee, ack.acknowledgedBy, ack.note],
        ['acknowledged', 'alice', 'alice', 'technician on site?'],
      );
      await assert.rejects(book.acknowledge(door.id, 'bob', {}), { code: 'BAD_TRANSITION' });
      const moved = await book.annotate(door.id, { assignee: 'bob' });
      assert.equal(moved.assignee, 'bob');
      const res = await book.resolve(door.id, 'bob', { note: 'maintenance not announced; door closed' });
      assert.deepEqual(
        [res.state, res.resolvedBy, res.note],
        ['resolved', 'bob', 'maintenance not announced; door closed'],
      );
      await assert.rejects(book.resolve(door.id, 'bob', {}), { code: 'BAD_TRANSITION' });
      await assert.rejects(book.acknowledge(999_999, 'bob', {}), { code: 'NOT_FOUND' });
      await fleet.event('gw-1', 'tamper.door_open', 'cabinet-door');
      const open = await one('gw-1', 'door_open', 'open');
      assert.equal(open.length, 1);
      assert.notEqual(open[0].id, door.id);
      assert.equal(open[0].count, 1);
      assert.equal(
        (await one('gw-1', 'door_open', 'resolved'))[0].count,
        2,
        'the resolved one keeps its history',
      );
    });
  });
}
