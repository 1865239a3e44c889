// The auditor's HTML compliance report (#16): per gateway and fleet-wide, every finding
// citing the signed report batch it comes from, and each cited batch is in the store.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Console } from '../../../platform/src/console/index.js';
import { ConsoleClient } from '../../helpers/console.js';
import { cabinetInventory, SOFTWARE_RECORDS, ViewerWorld } from '../../helpers/console-world.js';
import type { TestDb } from '../../helpers/platform-db.js';

const STREAM = { telemetry: 1, events: 2, reports: 3 } as const;
const check = (id: string, status: string, etsi: string[], detail = '') => ({
  id,
  title: id,
  status,
  severity: 3,
  etsi,
  iec: ['CR 1.1'],
  detail,
  evidence: [],
});

interface Cite {
  device: string;
  stream: string;
  epoch: number;
  seq: number;
  hash: string;
}
/** Each finding row and the citation in it. */
function findings(html: string): { cls: string; cite: Cite | null }[] {
  return [...html.matchAll(/<tr class="finding ([^"]*)">([\s\S]*?)<\/tr>/g)].map(([, cls, row]) => {
    const m =
      /<td class="cite" data-device="([^"]*)" data-stream="([^"]*)" data-epoch="(\d+)" data-seq="(\d+)" data-hash="([0-9a-f]*)">/.exec(
        row,
      );
    return {
      cls,
      cite: m ? { device: m[1], stream: m[2], epoch: Number(m[3]), seq: Number(m[4]), hash: m[5] } : null,
    };
  });
}

describe('console auditor report (HTML, real PostgreSQL)', () => {
  let t: TestDb;
  let app: Console;
  let viewer: ConsoleClient;
  let ca = '';

  const w = new ViewerWorld();
  before(async () => {
    await w.start('console-report-', 'postgres', async (fleet) => {
      await fleet.add('gw-a');
      await fleet.add('gw-b');
      await fleet.report('gw-a', 'audit', {
        score: 70,
        checks: [
          check('ssh-root-login', 'fail', ['5.1-1'], 'PermitRootLogin yes <script>alert(1)</script>'),
          check('updates', 'pass', ['5.3-1']),
        ],
      });
      await fleet.sbom('gw-a', SOFTWARE_RECORDS);
      await fleet.report('gw-a', 'inventory', cabinetInventory(fleet.sealAt));
      await fleet.report('gw-b', 'audit', {
        score: 100,
        checks: [check('ssh-root-login', 'pass', ['5.1-1'])],
      });
    });
    ({ t, app, viewer, ca } = w);
  });
  after(() => w.close());

  it('fleet-wide: every finding cites a signed report batch that exists in the store, with its payload hash', async () => {
    const r = await viewer.get('/api/v1/compliance/report.html');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.match(String(r.headers['content-security-policy']), /script-src 'self'/);
    const rows = findings(r.text);
    // gw-a: 3 provisions, the vulnerable packages, 3 sensors; gw-b: 2 provisions.
    assert.ok(rows.length >= 3 + 3 + 3 + 2, String(rows.length));
    assert.ok(rows.some((x) => x.cls === 'fail') && rows.some((x) => x.cls === 'vulnerable'));
    for (const { cite } of rows) {
      assert.ok(cite, 'every finding has its citation');
      const stream = STREAM[cite.stream as keyof typeof STREAM];
      const [b] = await t.db.query<{ payload_hash: Uint8Array }>(
        'SELECT payload_hash FROM batches WHERE device_id = $1 AND stream = $2 AND epoch = $3 AND seq = $4',
        [cite.device, stream, cite.epoch, cite.seq],
      );
      assert.ok(b, `batch ${JSON.stringify(cite)} is stored`);
      assert.equal(Buffer.from(b.payload_hash).toString('hex'), cite.hash);
    }
    const cited = new Set(rows.map((x) => `${x.cite?.device}:${x.cite?.seq}`));
    assert.deepEqual(
      [...cited].sort(),
      ['gw-a:1', 'gw-a:2', 'gw-a:3', 'gw-b:1'],
      'audit, SBOM, inventory; audit',
    );
    assert.ok(!r.text.includes('<script>alert(1)'), 'device text is escaped');
    assert.ok(r.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(!/<script/i.test(r.text), 'no script at all: printable as is');
  });

  it('per gateway: only its findings; a bad device id is a 400, no session a 401', async () => {
    const r = await viewer.get('/api/v1/compliance/report.html?device=gw-b');
    assert.equal(r.status, 200);
    const rows = findings(r.text);
    assert.equal(rows.length, 2);
    assert.ok(rows.every((x) => x.cite?.device === 'gw-b'));
    assert.match(r.text, /<title>Compliance report: gateway gw-b<\/title>/);
    const bad = await viewer.get('/api/v1/compliance/report.html?device=%3Cx%3E');
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { field: string }).field, 'device');
    // review #16: a gateway the registry does not know has no report (was an empty one, 200).
    const unknown = await viewer.get('/api/v1/compliance/report.html?device=gw-nobody');
    assert.equal(unknown.status, 404, unknown.text.slice(0, 200));
    const anon = new ConsoleClient(app.url, ca);
    assert.equal((await anon.get('/api/v1/compliance/report.html')).status, 401);
  });
});
