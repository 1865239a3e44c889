import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Alert } from '../../../platform/src/console/alerts/index.js';
import type { IncidentDetail } from '../../../platform/src/console/incidents/index.js';
import type { Console } from '../../../platform/src/console/index.js';
import { ConsoleClient } from '../../helpers/console.js';
import { addTestUsers, consolePki, Fleet, testConsole } from '../../helpers/console-world.js';
import { postgresDb, type TestDb } from '../../helpers/platform-db.js';
import { stixValidator } from '../../helpers/stix.js';

const H = 3_600_000;

describe('console API: alerts and incidents (HTTPS, real PostgreSQL)', () => {
  let t: TestDb;
  let app: Console;
  let ca: string;
  let cleanup: () => void;
  let now = Date.parse('2025-03-01T10:00:00Z');
  const op = () => new ConsoleClient(app.url, ca);
  let operator: ConsoleClient;
  let viewer: ConsoleClient;
  let door: Alert;
  let integrity: Alert;

  before(async () => {
    const tls = consolePki('console-inc-');
    cleanup = tls.cleanup;
    ca = tls.ca;
    t = await postgresDb();
    await addTestUsers(t.db, ['op', 'view']);
    app = testConsole(t.db, tls.pki, { clock: () => now });
    await app.start();
    const fleet = new Fleet(t.store);
    await fleet.add('gw-7', { site: 'Place du Marché', lat: 50.85, lon: 4.35 });
    await fleet.event('gw-7', 'tamper.door_open', 'cabinet-door', { gpio: '/sys/class/gpio/gpio17/value' });
    await fleet.event('gw-7', 'integrity.modified', "/etc/it's-config");
    await fleet.event('gw-7', 'sensor.vulnerable', 'modbus:3', { firmware: '1.0.2' });
    operator = op();
    viewer = op();
    assert.equal((await operator.login('op', 'lamp-post kilowatt 7')).status, 200);
    assert.equal((await viewer.login('view', 'river bench ladder 3')).status, 200);
  });
  after(async () => {
    await app?.stop();
    await t?.close();
    cleanup?.();
  });

  it('lists the alerts a gateway raised; 400 on a bad filter', async () => {
    const r = await viewer.get('/api/v1/alerts?state=open');
    assert.equal(r.status, 200);
    const alerts = (r.body as { alerts: Alert[] }).alerts;
    assert.deepEqual(alerts.map((a) => a.type).sort(), [
      'door_open',
      'integrity_change',
      'vulnerable_firmware',
    ]);
    door = alerts.find((a) => a.type === 'door_open') as Alert;
    integrity = alerts.find((a) => a.type === 'integrity_change') as Alert;
    const bad = await viewer.get('/api/v1/alerts?state=closed');
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { field: string }).field, 'state');
    assert.equal((await viewer.get('/api/v1/alerts/abc')).status, 400);
    assert.equal((await viewer.get('/api/v1/alerts/99999')).status, 404);
    assert.equal((await viewer.get('/api/v1/gateways/nope')).status, 404);
    const gw = (await viewer.get('/api/v1/gateways/gw-7')).body as {
      gateway: { site: string };
      events: unknown[];
    };
    assert.deepEqual([gw.gateway.site, gw.events.length], ['Place du Marché', 3]);
  });

  it('an operator acknowledges (logged); a viewer may not (403); bad bodies are 400; a repeat is 409', async () => {
    const denied = await viewer.post(`/api/v1/alerts/${door.id}/acknowledge`, {});
    assert.equal(denied.status, 403);
    assert.equal(
      (await operator.post(`/api/v1/alerts/${door.id}/acknowledge`, {}, { csrf: false })).status,
      403,
    );
    const bad = await operator.post(`/api/v1/alerts/${door.id}/acknowledge`, { note: 7 });
    assert.deepEqual(bad.body, { error: 'BAD_REQUEST', field: 'note', reason: 'must be a string' });
    const ok = await operator.post(`/api/v1/alerts/${door.id}/acknowledge`, {
      note: 'calling the technician',
    });
    assert.equal(ok.status, 200);
    const a = (ok.body as { alert: Alert }).alert;
    assert.deepEqual([a.state, a.assignee, a.note], ['acknowledged', 'op', 'calling the technician']);
    assert.equal((await operator.post(`/api/v1/alerts/${door.id}/acknowledge`, {})).status, 409);
    const log = await t.db.query<{ username: string }>(
      "SELECT username FROM console_audit WHERE action = 'alert.acknowledge'",
    );
    assert.deepEqual(
      log.map((l) => l.username),
      ['op'],
    );
  });

  it('refuses malformed incidents with the field and the reason', async () => {
    const base = {
      title: 'Cabinet opened',
      severity: 'high',
      rsitClass: 'intrusions',
      rsitType: 'burglary',
      alertIds: [door.id],
    };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, rsitType: 'spam' }, 'rsitType'],
      [{ ...base, rsitClass: 'nonsense' }, 'rsitClass'],
      [{ ...base, alertIds: [] }, 'alertIds'],
      [{ ...base, alertIds: [99_999] }, 'alertIds'],
      [{ ...base, awareAt: 'yesterday' }, 'awareAt'],
      [{ ...base, severity: 'urgent' }, 'severity'],
    ];
    for (const [body, field] of cases) {
      const r = await operator.post('/api/v1/incidents', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal((r.body as { field: string }).field, field, JSON.stringify(r.body));
    }
    assert.equal((await viewer.post('/api/v1/incidents', base)).status, 403);
    assert.equal((await t.db.query('SELECT 1 FROM console_incidents')).length, 0, 'nothing half-made');
  });

  let incidentId = 0;
  it('opens an incident over alerts, with NIS2 clocks from the moment of awareness', async () => {
    const awareAt = new Date(now - 2 * H).toISOString();
    const r = await operator.post('/api/v1/incidents', {
      title: 'Cabinet opened and config changed at Place du Marché',
      summary: 'Door opened outside maintenance, a config file changed minutes later.',
      severity: 'high',
      rsitClass: 'intrusions',
      rsitType: 'system-compromise',
      awareAt,
      alertIds: [door.id, integrity.id],
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    incidentId = (r.body as { incident: { id: number } }).incident.id;
    const again = await operator.post('/api/v1/incidents', {
      title: 'x',
      severity: 'low',
      rsitClass: 'other',
      rsitType: 'other',
      alertIds: [door.id],
    });
    assert.equal(again.status, 400, 'an alert belongs to one incident');
    now += 23 * H;
    assert.equal((await viewer.get('/api/v1/session')).status, 401, 'sessions end, the clocks run on');
    assert.equal((await operator.login('op', 'lamp-post kilowatt 7')).status, 200);
    assert.equal((await viewer.login('view', 'river bench ladder 3')).status, 200);
    const d = (await viewer.get(`/api/v1/incidents/${incidentId}`)).body as { incident: IncidentDetail };
    assert.deepEqual(
      d.incident.clocks.map((c) => [c.stage, c.status, c.remainingMs]),
      [
        ['early-warning', 'overdue', -H],
        ['notification', 'running', 47 * H],
        ['final-report', 'running', Date.parse('2025-04-04T08:00:00Z') - now],
      ],
    );
    assert.deepEqual(d.incident.alerts.map((a) => a.id).sort(), [door.id, integrity.id].sort());
    const sent = await operator.post(`/api/v1/incidents/${incidentId}/reports`, { stage: 'early-warning' });
    assert.equal((sent.body as { incident: IncidentDetail }).incident.clocks[0].status, 'done');
    assert.equal(
      (await operator.post(`/api/v1/incidents/${incidentId}/reports`, { stage: 'draft' })).status,
      400,
    );
  });

  it('exports a STIX 2.1 bundle that validates against the OASIS schemas', async () => {
    const r = await viewer.get(`/api/v1/incidents/${incidentId}/stix`);
    assert.equal(r.status, 200);
    const bundle = r.body as { type: string; objects: { type: string; id: string; [k: string]: unknown }[] };
    assert.deepEqual(stixValidator()(bundle), []);
    const types = bundle.objects.map((o) => o.type);
    for (const ty of [
      'incident',
      'identity',
      'observed-data',
      'indicator',
      'artifact',
      'file',
      'relationship',
    ])
      assert.ok(types.includes(ty), ty);
    const id = bundle.objects.find((o) => o.type === 'identity');
    assert.deepEqual([id?.name, id?.identity_class], ['gw-7', 'system']);
    const ind = bundle.objects.find((o) => o.type === 'indicator');
    assert.equal(ind?.pattern, "[file:name = 'it\\'s-config']");
    const incident = bundle.objects.find((o) => o.type === 'incident');
    const rels = bundle.objects.filter((o) => o.type === 'relationship');
    for (const o of bundle.objects.filter((x) => ['observed-data', 'indicator', 'identity'].includes(x.type)))
      assert.ok(
        rels.some(
          (rel) =>
            [rel.source_ref, rel.target_ref].includes(o.id) &&
            [rel.source_ref, rel.target_ref].includes(incident?.id),
        ),
        `${o.id} tied to the incident`,
      );
    const broken = structuredClone(bundle);
    delete (broken.objects[0] as Record<string, unknown>).name;
    assert.notDeepEqual(stixValidator()(broken), [], 'the validator does catch a broken bundle');
  });

  it('exports a MISP event tagged with the ENISA RSIT taxonomy', async () => {
    const r = await viewer.get(`/api/v1/incidents/${incidentId}/misp`);
    assert.equal(r.status, 200);
    const e = (r.body as { Event: Record<string, unknown> }).Event;
    assert.deepEqual(e.Tag, [{ name: 'rsit:intrusions="system-compromise"' }, { name: 'tlp:amber' }]);
    assert.equal(e.threat_level_id, '1');
    assert.equal(e.date, '2025-03-01');
    const attrs = e.Attribute as { type: string; category: string; value: string }[];
    assert.ok(attrs.some((a) => a.type === 'target-machine' && a.value === 'gw-7'));
    assert.ok(
      attrs.some(
        (a) => a.type === 'filename' && a.category === 'Artifacts dropped' && a.value === "/etc/it's-config",
      ),
    );
    const exports = await t.db.query(
      "SELECT action FROM console_audit WHERE action LIKE 'incident.%' ORDER BY id",
    );
    assert.deepEqual(
      exports.map((x) => (x as { action: string }).action),
      ['incident.create', 'incident.early-warning', 'incident.export.stix', 'incident.export.misp'],
    );
  });
});
