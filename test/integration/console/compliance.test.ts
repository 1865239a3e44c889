import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Stream } from '../../../agent/src/core/index.js';
import { verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import type { Console } from '../../../platform/src/console/index.js';
import { ringOf } from '../../../scripts/lib/sim-device.js';
import { ConsoleClient } from '../../helpers/console.js';
import { addTestUsers, consolePki, Fleet, testConsole } from '../../helpers/console-world.js';
import { pgliteDb, type TestDb } from '../../helpers/platform-db.js';

const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[45][0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}$/;
const TOKEN = /^[A-Za-z_][A-Za-z0-9._-]*$/;
const check = (id: string, status: string, etsi: string[], iec: string[] = []) => ({
  id,
  title: id,
  status,
  severity: 3,
  etsi,
  iec,
  detail: `${id} ${status}`,
  evidence: [],
});

interface Prop {
  name: string;
  value: string;
}
interface Finding {
  uuid: string;
  props: Prop[];
  target: { 'target-id': string; status: { state: string } };
  'related-observations': { 'observation-uuid': string }[];
}

describe('console compliance matrix and OSCAL export (PGlite)', () => {
  let t: TestDb;
  let app: Console;
  let cleanup: () => void;
  let viewer: ConsoleClient;
  let ca = '';
  const hashes = new Map<string, { seq: number; hash: string }>();

  before(async () => {
    const tls = consolePki('console-compliance-');
    cleanup = tls.cleanup;
    t = await pgliteDb();
    await addTestUsers(t.db, ['view']);
    const fleet = new Fleet(t.store);
    const reports: Record<string, unknown[]> = {
      'gw-a': [check('ssh-root-login', 'pass', ['5.1-1'], ['CR 1.1']), check('updates', 'fail', ['5.3-1'])],
      'gw-b': [
        check('ssh-root-login', 'fail', ['5.1-1'], ['CR 1.1']),
        check('updates', 'pass', ['5.3-1']),
        check('debug-port', 'not-applicable', ['5.6-4']),
      ],
    };
    for (const [id, checks] of Object.entries(reports)) {
      await fleet.add(id);
      const items = [
        {
          stream: Stream.REPORTS,
          report: {
            kind: 'audit' as const,
            contentType: 'application/json' as const,
            body: Buffer.from(JSON.stringify({ score: 50, checks })),
          },
        },
      ];
      const env = fleet.seal(id, Stream.REPORTS, items);
      // The hash an auditor recomputes from the envelope, independently of the store.
      const v = verifyEnvelope(env, ringOf([...fleet.devices.values()]));
      hashes.set(id, { seq: Number(v.batch.seq), hash: Buffer.from(v.payloadHash).toString('hex') });
      await fleet.ingest(env);
    }
    app = testConsole(t.db, tls.pki);
    await app.start();
    ca = tls.ca;
    viewer = new ConsoleClient(app.url, ca);
    assert.equal((await viewer.login('view', 'river bench ladder 3')).status, 200);
  });
  after(async () => {
    await app?.stop();
    await t?.close();
    cleanup?.();
  });

  it('answers provisions × gateways with the share compliant per provision', async () => {
    assert.equal((await new ConsoleClient(app.url, ca).get('/api/v1/compliance')).status, 401);
    const r = await viewer.get('/api/v1/compliance');
    assert.equal(r.status, 200);
    const body = r.body as {
      provisions: { standard: string; provision: string; results: Record<string, string>; share: number }[];
    };
    const rows = body.provisions.map((p) => [p.standard, p.provision, p.results, p.share]);
    assert.deepEqual(rows, [
      ['ETSI EN 303 645', '5.1-1', { 'gw-a': 'pass', 'gw-b': 'fail' }, 0.5],
      ['ETSI EN 303 645', '5.3-1', { 'gw-a': 'fail', 'gw-b': 'pass' }, 0.5],
      ['IEC 62443-4-2', 'CR 1.1', { 'gw-a': 'pass', 'gw-b': 'fail' }, 0.5],
    ]);
  });

  it('exports OSCAL assessment results whose every finding cites the signed report batch', async () => {
    const r = await viewer.get('/api/v1/compliance/oscal');
    assert.equal(r.status, 200);
    const ar = (r.body as { 'assessment-results': Record<string, unknown> })['assessment-results'] as {
      uuid: string;
      metadata: { 'oscal-version': string };
      results: { observations: { uuid: string }[]; findings: Finding[] }[];
    };
    assert.match(ar.uuid, UUID);
    assert.equal(ar.metadata['oscal-version'], '1.1.2');
    const [result] = ar.results;
    assert.equal(result.findings.length, 6, '3 provisions on each of 2 gateways (not-applicable left out)');
    const observed = new Set(result.observations.map((o) => o.uuid));
    for (const f of result.findings) {
      assert.match(f.uuid, UUID);
      assert.match(f.target['target-id'], TOKEN);
      const p = Object.fromEntries(f.props.map((x) => [x.name, x.value]));
      const want = hashes.get(p.device);
      assert.ok(want, `finding names a known device: ${JSON.stringify(p)}`);
      assert.deepEqual(
        [p.stream, p.epoch, p.seq, p['payload-hash-sha256']],
        ['reports', '1', String(want.seq), want.hash],
      );
      assert.ok(observed.has(f['related-observations'][0]['observation-uuid']));
    }
    const states = result.findings.map((f) => `${f.target['target-id']}=${f.target.status.state}`).sort();
    assert.ok(states.includes('etsi-en-303-645_5.1-1=satisfied'));
    assert.ok(states.includes('iec-62443-4-2_cr-1.1=not-satisfied'));
    const one = await viewer.get('/api/v1/compliance/oscal?device=gw-a');
    const findings = (one.body as { 'assessment-results': { results: { findings: Finding[] }[] } })[
      'assessment-results'
    ].results[0].findings;
    assert.equal(findings.length, 3);
    const logged = await t.db.query("SELECT 1 FROM console_audit WHERE action = 'compliance.export.oscal'");
    assert.equal(logged.length, 2);
  });
});
