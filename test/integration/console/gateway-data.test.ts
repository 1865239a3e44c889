// The gateway page's data (#16): sensors with firmware verdicts from the latest inventory
// report, telemetry bucketed for charts, and compliance share by day from the stored
// audit report history. PGlite: the console runs on either engine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConsoleClient } from '../../helpers/console.js';
import { cabinetInventory, ViewerWorld } from '../../helpers/console-world.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const D = Date.UTC(2026, 10, 20, 12); // noon of the newest report's day
const audit = (status: string) => ({
  score: status === 'pass' ? 100 : 80,
  checks: [
    { id: 'ssh', title: 'ssh', status, severity: 3, etsi: ['5.1-1'], iec: [], detail: '', evidence: [] },
    {
      id: 'upd',
      title: 'upd',
      status: 'pass',
      severity: 3,
      etsi: ['5.3-1'],
      iec: [],
      detail: '',
      evidence: [],
    },
  ],
});

interface Telemetry {
  from: string;
  to: string;
  series: {
    sensorId: string;
    unit: string;
    points: { avg: number; min: number; max: number; n: number }[];
  }[];
}

describe('console gateway data: sensors, telemetry, compliance history (PGlite)', () => {
  let viewer: ConsoleClient;
  let inventorySeq = 0;

  const w = new ViewerWorld();
  before(async () => {
    await w.start('console-gwdata-', 'pglite', async (fleet) => {
      await fleet.add('gw-a');
      await fleet.add('gw-b');
      fleet.sealAt = D - 2 * DAY;
      await fleet.report('gw-a', 'audit', audit('fail'));
      fleet.sealAt = D - DAY;
      await fleet.report('gw-b', 'audit', audit('pass'));
      fleet.sealAt = D;
      await fleet.report('gw-a', 'audit', audit('pass'));
      inventorySeq = await fleet.report('gw-a', 'inventory', cabinetInventory(D));
      // aq-7: 100 readings over the 10 h before D, values 0..99; temp-1: 20 readings; 30 h old ones too.
      await fleet.readings(
        'gw-a',
        'aq-7',
        'ug/m3',
        Array.from({ length: 100 }, (_, i): [number, number] => [D - 10 * HOUR + i * 6 * 60_000, i]),
      );
      await fleet.readings(
        'gw-a',
        'temp-1',
        'Cel',
        Array.from({ length: 20 }, (_, i): [number, number] => [D - 20 * HOUR + i * HOUR, 10 + i / 2]),
      );
      await fleet.readings('gw-a', 'aq-7', 'ug/m3', [[D - 30 * HOUR, 1000]]);
    });
    ({ viewer } = w);
  });
  after(() => w.close());

  it('sensors with their firmware verdicts, the vulnerable first, citing the inventory batch', async () => {
    const r = await viewer.get('/api/v1/gateways/gw-a');
    assert.equal(r.status, 200, r.text);
    const { sensors } = r.body as {
      sensors: { source: { seq: number; payloadHash: string }; sensors: Record<string, unknown>[] };
    };
    assert.deepEqual(
      sensors.sensors.map((s) => [s.location, s.verdict]),
      [
        ['1-1.2', 'vulnerable'],
        ['1-1.3', 'unknown-model'],
        ['1-1.1', 'approved'],
      ],
    );
    assert.deepEqual(sensors.sensors[0].cves, [{ id: 'CVE-2024-22512', severity: 'high' }]);
    assert.equal(sensors.sensors[0].firmware, '4.14');
    assert.equal(sensors.source.seq, inventorySeq);
    assert.match(sensors.source.payloadHash, /^[0-9a-f]{64}$/);
    assert.equal(((await viewer.get('/api/v1/gateways/gw-b')).body as { sensors: unknown }).sensors, null);
  });

  it('the fleet counts vulnerable sensors from the latest inventory, as the gateway page does', async () => {
    const r = await viewer.get('/api/v1/fleet');
    assert.equal(r.status, 200, r.text);
    const { gateways } = r.body as { gateways: { deviceId: string; vulnerableSensors: number }[] };
    assert.deepEqual(
      gateways.map((g) => [g.deviceId, g.vulnerableSensors]),
      [
        ['gw-a', 1],
        ['gw-b', 0],
      ],
    );
  });

  it('telemetry by sensor over the last hours up to the newest reading, bucketed', async () => {
    const day = (await viewer.get('/api/v1/gateways/gw-a/telemetry?hours=24&buckets=24')).body as Telemetry;
    assert.equal(day.to, new Date(D - 10 * HOUR + 99 * 6 * 60_000).toISOString());
    const aq = day.series.find((s) => s.sensorId === 'aq-7');
    const temp = day.series.find((s) => s.sensorId === 'temp-1');
    assert.equal(aq?.unit, 'ug/m3');
    assert.equal(
      aq?.points.reduce((n, p) => n + p.n, 0),
      100,
      'the 30 h old reading is outside the window',
    );
    assert.ok((aq?.points.length ?? 0) <= 25 && (aq?.points.length ?? 0) >= 10);
    assert.equal(Math.min(...(aq?.points ?? []).map((p) => p.min)), 0);
    assert.equal(Math.max(...(aq?.points ?? []).map((p) => p.max)), 99);
    assert.equal(
      temp?.points.reduce((n, p) => n + p.n, 0),
      20,
      'readings within 24 h of the newest',
    );
    const two = (await viewer.get('/api/v1/gateways/gw-a/telemetry?hours=2&buckets=4')).body as Telemetry;
    // Newest reading D-6 min: aq-7 from i = 79 on, temp-1 at D-2 h and D-1 h.
    assert.deepEqual(
      two.series.map((s) => [s.sensorId, s.points.reduce((n, p) => n + p.n, 0)]),
      [
        ['aq-7', 21],
        ['temp-1', 2],
      ],
    );
    const none = (await viewer.get('/api/v1/gateways/gw-b/telemetry')).body as Telemetry;
    assert.deepEqual(none.series, []);
    for (const [q, field] of [
      ['hours=0', 'hours'],
      ['buckets=5000', 'buckets'],
      ['hours=1.5', 'hours'],
      ['zoom=2', 'zoom'],
    ]) {
      const bad = await viewer.get(`/api/v1/gateways/gw-a/telemetry?${q}`);
      assert.equal(bad.status, 400, q);
      assert.equal((bad.body as { field: string }).field, field, q);
    }
  });

  it('compliance history: share compliant per provision by day, standing carried over days', async () => {
    const r = await viewer.get('/api/v1/compliance/history?days=4');
    assert.equal(r.status, 200, r.text);
    const h = r.body as {
      days: string[];
      provisions: { standard: string; provision: string; share: (number | null)[]; assessed: number[] }[];
    };
    assert.deepEqual(h.days, ['2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20']);
    const p51 = h.provisions.find((p) => p.provision === '5.1-1');
    assert.deepEqual(p51?.share, [null, 0, 0.5, 1]);
    assert.deepEqual(p51?.assessed, [0, 1, 2, 2]);
    const p53 = h.provisions.find((p) => p.provision === '5.3-1');
    assert.deepEqual(p53?.share, [null, 1, 1, 1]);
    const one = (await viewer.get('/api/v1/compliance/history?days=2&device=gw-b')).body as typeof h;
    assert.deepEqual(one.days, ['2026-11-18', '2026-11-19']);
    assert.deepEqual(one.provisions.find((p) => p.provision === '5.1-1')?.share, [null, 1]);
    const bad = await viewer.get('/api/v1/compliance/history?days=400');
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { field: string }).field, 'days');
  });
});
