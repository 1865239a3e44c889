// The gateway's own software on the console (#17): the SBOM report the agent sends
// (gzipped CycloneDX with its findings) and its software.vulnerable events, read back
// through the API as the gateway page and the fleet view show them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Finding } from '../../../agent/src/software/index.js';
import type { Console } from '../../../platform/src/console/index.js';
import {
  GZIP_SBOM,
  MAX_SBOM_JSON_BYTES,
  parseSbom,
  SbomReportError,
  sbomJson,
} from '../../../platform/src/console/software/index.js';
import { ConsoleClient } from '../../helpers/console.js';
import { type Fleet, SOFTWARE_RECORDS, ViewerWorld } from '../../helpers/console-world.js';
import type { TestDb } from '../../helpers/platform-db.js';
import { cycloneDxValidator } from '../../helpers/software.js';

interface Fleetish {
  gateways: { deviceId: string; software: Record<string, unknown> | null }[];
}
interface SoftwareReply {
  sbom: Record<string, unknown> & { source: Record<string, unknown> };
  total: number;
  findings: Record<string, unknown>[];
}
/**
 * review #17: a small CycloneDX (under the 32 MiB bound) whose one vulnerability with a
 * 64 KiB description affects 30,000 refs: one finding per affect, each carrying the
 * description, is 2 GB once stored (the console stalled, then failed every fleet page).
 */
function amplifyingSbom(): Buffer {
  const affects = Array.from({ length: 30_000 }, () => ({ ref: 'a' }));
  return Buffer.from(
    JSON.stringify({
      bomFormat: 'CycloneDX',
      components: [{ 'bom-ref': 'a', name: 'a', version: '1' }],
      vulnerabilities: [{ id: 'CVE-1', description: 'x'.repeat(64 << 10), affects }],
    }),
  );
}
const purls = (fs: Finding[], pred: (f: Finding) => boolean = () => true) =>
  new Set(fs.filter(pred).map((f) => f.component.purl)).size;

describe('console: the gateways own software (real PostgreSQL)', () => {
  let t: TestDb;
  let app: Console;
  let fleet: Fleet;
  let viewer: ConsoleClient;
  let findings: Finding[] = [];
  let sbomSeq = 0;
  let ca = '';

  const w = new ViewerWorld();
  before(async () => {
    await w.start('console-software-', 'postgres', async (fleet) => {
      for (const id of ['gw-a', 'gw-b', 'gw-c']) await fleet.add(id);
      ({ seq: sbomSeq, findings } = await fleet.sbom('gw-a', SOFTWARE_RECORDS));
      await fleet.report(
        'gw-c',
        'sbom',
        Buffer.from('not gzip at all'),
        'application/vnd.cyclonedx+json+gzip',
      );
      await fleet.add('gw-d');
      await fleet.report('gw-d', 'sbom', gzipSync(amplifyingSbom()), GZIP_SBOM);
      // review #17: PostgreSQL's jsonb refuses \u0000; a NUL in a device string failed every fleet page.
      await fleet.add('gw-e');
      const nul = {
        bomFormat: 'CycloneDX',
        serialNumber: 'urn:\u0000',
        components: [{ 'bom-ref': 'a', name: 'a\u0000b', version: '1' }],
        vulnerabilities: [{ id: 'CVE-3', description: 'x\u0000y', affects: [{ ref: 'a' }] }],
      };
      await fleet.report('gw-e', 'sbom', gzipSync(JSON.stringify(nul)), GZIP_SBOM);
    });
    ({ t, app, viewer, ca, fleet } = w);
  });
  after(() => w.close());

  it('the fleet counts vulnerable packages (KEV, critical) per gateway from its latest SBOM', async () => {
    assert.ok(findings.length >= 3, 'the fixture image has planted vulnerable versions');
    const r = await viewer.get('/api/v1/fleet');
    assert.equal(r.status, 200);
    const by = new Map((r.body as Fleetish).gateways.map((g) => [g.deviceId, g.software]));
    const a = by.get('gw-a');
    assert.ok(a && (a.components as number) > 300, 'every dpkg package, the kernel and npm dependencies');
    assert.deepEqual(
      { ...a, components: 0 },
      {
        components: 0,
        vulnerablePackages: purls(findings),
        kevPackages: purls(findings, (f) => f.kev),
        criticalPackages: purls(findings, (f) => f.severity === 'critical'),
        problem: null,
      },
    );
    assert.equal(a.kevPackages, 2, 'openssl and libssl3');
    assert.equal(by.get('gw-b'), null, 'no SBOM report: no figures');
    const d = by.get('gw-d');
    assert.match(String(d?.problem), /findings/, 'the amplifying SBOM is refused with its reason');
    assert.equal(by.get('gw-e')?.vulnerablePackages, 1, 'a NUL in a device string is stored replaced');
    const c = by.get('gw-c');
    assert.match(String(c?.problem), /not gzip/);
    assert.equal(c?.vulnerablePackages, 0);
  });

  it('the gateway: package, version, CVE, severity, CVSS, KEV and fixed version, citing the signed batch', async () => {
    const r = await viewer.get('/api/v1/gateways/gw-a/software');
    assert.equal(r.status, 200, r.text);
    const { sbom, findings: got } = r.body as SoftwareReply;
    const [b] = await t.db.query<{ payload_hash: Uint8Array }>(
      "SELECT payload_hash FROM batches WHERE device_id = 'gw-a' AND stream = 3 AND seq = $1",
      [sbomSeq],
    );
    assert.deepEqual(sbom.source, {
      deviceId: 'gw-a',
      stream: 'reports',
      epoch: Number(sbom.source.epoch),
      seq: sbomSeq,
      payloadHash: Buffer.from(b.payload_hash).toString('hex'),
    });
    assert.equal(sbom.feedVersion, 7);
    assert.deepEqual(
      got.find((f) => f.package === 'libssl3'),
      {
        package: 'libssl3',
        version: '3.0.11-1~deb12u1',
        purl: findings.find((f) => f.component.name === 'libssl3')?.component.purl,
        cve: 'CVE-2024-5535',
        severity: 'high',
        cvss: 9.1,
        kev: true,
        fixed: '3.0.14-1~deb12u1',
        summary: 'SSL_select_next_proto buffer overread',
      },
    );
    const zlib = got.find((f) => f.package === 'zlib1g');
    assert.equal(zlib?.fixed, null, 'no fix yet');
    assert.equal(zlib?.severity, 'critical');
    assert.equal(zlib?.kev, false);
    assert.equal(got.length, findings.length);
    assert.ok(!got.some((f) => f.cve === 'CVE-2020-8169'), 'curl is past the fixed version');
    assert.equal(got[0].kev, true, 'known exploited first');
    const page = (await viewer.get('/api/v1/gateways/gw-a')).body as { software: SoftwareReply };
    assert.equal(page.software.sbom.vulnerablePackages, purls(findings));
  });

  it('filters by KEV and severity; bad parameters are a 400 naming them', async () => {
    const kev = (await viewer.get('/api/v1/gateways/gw-a/software?kev=true')).body as SoftwareReply;
    assert.ok(kev.findings.length === 2 && kev.findings.every((f) => f.kev === true));
    const crit = (await viewer.get('/api/v1/gateways/gw-a/software?severity=critical&limit=1'))
      .body as SoftwareReply;
    assert.equal(crit.findings.length, 1);
    assert.equal(crit.total, findings.filter((f) => f.severity === 'critical').length);
    for (const [q, field] of [
      ['?kev=yes', 'kev'],
      ['?severity=urgent', 'severity'],
      ['?limit=0', 'limit'],
      ['?limit=ten', 'limit'],
      ['?colour=red', 'colour'],
    ]) {
      const r = await viewer.get(`/api/v1/gateways/gw-a/software${q}`);
      assert.equal(r.status, 400, q);
      assert.equal((r.body as { field: string }).field, field, q);
    }
    const bad = await viewer.get('/api/v1/gateways/..%2Fetc/software');
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { field: string }).field, 'id');
    assert.equal((await viewer.get('/api/v1/gateways/gw-b/software')).status, 404);
    const anonymous = new ConsoleClient(app.url, ca);
    assert.equal((await anonymous.get('/api/v1/gateways/gw-a/software')).status, 401);
    assert.equal((await anonymous.get('/api/v1/gateways/gw-a/sbom')).status, 401);
  });

  it('downloads the stored CycloneDX JSON, which validates against the schema', async () => {
    const r = await viewer.get('/api/v1/gateways/gw-a/sbom');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^application\/vnd\.cyclonedx\+json/);
    assert.match(String(r.headers['content-disposition']), /attachment; filename="gw-a-sbom\.cdx\.json"/);
    const doc = JSON.parse(r.text);
    assert.deepEqual(cycloneDxValidator()(doc), []);
    assert.equal(doc.metadata.component.name, 'gw-a');
    assert.equal((await viewer.get('/api/v1/gateways/gw-b/sbom')).status, 404);
    // review #17: a stored report that cannot be inflated is said so, not an internal error.
    const bad = await viewer.get('/api/v1/gateways/gw-c/sbom');
    assert.equal(bad.status, 422, bad.text);
    assert.match(String((bad.body as { reason: string }).reason), /gw-c.*not gzip/);
  });

  it('a newer SBOM (openssl upgraded) replaces the figures; software.vulnerable raises an alert', async () => {
    const fixedFeed = SOFTWARE_RECORDS.filter((r) => r.pkg !== 'openssl');
    const next = await fleet.sbom('gw-a', fixedFeed);
    const r = (await viewer.get('/api/v1/fleet')).body as Fleetish;
    const a = r.gateways.find((g) => g.deviceId === 'gw-a')?.software;
    assert.equal(a?.kevPackages, 0);
    assert.equal(a?.vulnerablePackages, purls(next.findings));
    await fleet.event(
      'gw-b',
      'software.vulnerable',
      'deb:openssl',
      { cves: 'CVE-2024-5535', severity: 'high', kev: 'true', fixed: '3.0.14-1~deb12u1' },
      5,
    );
    const alerts = (await viewer.get('/api/v1/alerts?device=gw-b')).body as {
      alerts: { type: string; subject: string; severity: string; summary: string }[];
    };
    const v = alerts.alerts.find((x) => x.type === 'vulnerable_software');
    assert.equal(v?.subject, 'deb:openssl');
    assert.equal(v?.severity, 'critical');
    assert.match(String(v?.summary), /CVE-2024-5535/);
  });
});

describe('console: a device SBOM it cannot read is said so, never a clean zero', () => {
  it('refuses what is not gzip, not JSON or not CycloneDX, naming the reason', () => {
    assert.throws(
      () => sbomJson(Buffer.from('plain'), GZIP_SBOM),
      (e) => e instanceof SbomReportError && /not gzip/.test(e.message),
    );
    const big = gzipSync(Buffer.alloc(MAX_SBOM_JSON_BYTES + 1, 0x20));
    assert.throws(() => sbomJson(big, GZIP_SBOM), /too large|not gzip/);
    assert.throws(() => parseSbom('{"bomFormat": "SPDX"}'), /not a CycloneDX BOM/);
    assert.throws(() => parseSbom('[1, 2'), /not JSON/);
    const odd = parseSbom(
      JSON.stringify({
        bomFormat: 'CycloneDX',
        components: [{ 'bom-ref': 'a', name: 'a', version: '1', purl: 'pkg:deb/debian/a@1' }, 'junk'],
        vulnerabilities: [
          { id: 'CVE-1', ratings: [{ severity: 'apocalyptic' }], affects: [{ ref: 'a' }, { ref: 'gone' }] },
        ],
      }),
    );
    assert.equal(odd.components, 1);
    const long = parseSbom(
      JSON.stringify({
        bomFormat: 'CycloneDX',
        components: [{ 'bom-ref': 'a', name: 'n'.repeat(5000), version: 'v'.repeat(5000) }],
        vulnerabilities: [{ id: 'CVE-2', description: 'd'.repeat(1 << 20), affects: [{ ref: 'a' }] }],
      }),
    );
    const [f] = long.findings;
    assert.ok(f && f.summary !== null && f.summary.length <= 500, 'a description is clipped');
    assert.ok(f.package.length <= 256 && f.version.length <= 256, 'so are names and versions');
    assert.deepEqual(
      odd.findings.map((f) => [f.package, f.severity, f.cvss, f.kev, f.fixed]),
      [
        ['a', 'unknown', null, false, null],
        ['gone', 'unknown', null, false, null],
      ],
    );
  });
});
