import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { validate } from '../../../agent/src/config/index.js';
import {
  affects,
  indexFeed,
  loadFeed,
  MAX_FEED_BYTES,
  MAX_FEED_RECORDS,
  matchFeed,
  parseDpkgStatus,
  parseFeedBody,
  parseKernel,
  parseLockfile,
  recordSchema,
  type SoftwareInventory,
  urgentFindings,
  type VulnRecord,
} from '../../../agent/src/software/index.js';
import { TrustStore } from '../../../agent/src/trust/index.js';
import { buildFeedBody } from '../../../scripts/vulnfeed/build.js';
import { cvss3BaseScore, severityOf } from '../../../scripts/vulnfeed/cvss.js';
import { tempDir } from '../../helpers/paths.js';
import { trustProfilesKey } from '../../helpers/software.js';
import { docKey, makeDoc } from '../../helpers/trust.js';

const rec = (o: Partial<VulnRecord>): VulnRecord => ({
  id: 'CVE-2099-0001',
  eco: 'deb',
  pkg: 'p',
  ranges: [],
  severity: 'high',
  ...o,
});

describe('matching a feed', () => {
  it('compares deb versions with tildes and epochs as dpkg does', () => {
    const r = rec({ ranges: [{ fixed: '3.0.11-1~deb12u2' }] });
    assert.equal(affects(r, '3.0.11-1~deb12u1'), '3.0.11-1~deb12u2');
    assert.equal(affects(r, '3.0.11-1~deb12u2'), undefined);
    assert.equal(affects(r, '3.0.11-1'), undefined, '1~deb12u2 sorts before 1');
    const e = rec({ ranges: [{ fixed: '9.3p1-1' }] });
    assert.equal(affects(e, '1:9.2p1-2'), undefined, 'epoch 1 is above any epoch-0 version');
    assert.equal(affects(rec({ ranges: [{ fixed: '1:9.2p1-2+deb12u3' }] }), '9.9'), '1:9.2p1-2+deb12u3');
  });

  it('uses semver for npm, with introduced, fixed and lastAffected bounds and several ranges', () => {
    const r = rec({
      eco: 'npm',
      ranges: [
        { introduced: '7.0.0', fixed: '7.5.2' },
        { introduced: '6.0.0', fixed: '6.3.1' },
        { fixed: '5.7.2' },
      ],
    });
    assert.equal(affects(r, '7.5.1'), '7.5.2');
    assert.equal(affects(r, '7.5.2'), undefined);
    assert.equal(affects(r, '6.9.0'), undefined);
    assert.equal(affects(r, '6.1.0'), '6.3.1');
    assert.equal(affects(r, '1.0.0'), '5.7.2');
    assert.equal(affects(r, '7.10.0'), undefined, 'semver, not string order');
    const last = rec({ eco: 'npm', ranges: [{ introduced: '1.0.0', lastAffected: '1.2.0' }] });
    assert.equal(affects(last, '1.2.0'), null, 'affected, no fix');
    assert.equal(affects(last, '1.2.1'), undefined);
    assert.equal(affects(rec({}), '1.0'), null, 'no ranges: every version, no fix');
  });

  it('matches deb records by source package and release; the urgent ones are known exploited or critical with a fix', () => {
    const inv: SoftwareInventory = {
      root: '/',
      os: { id: 'debian', codename: 'bookworm' },
      dpkg: { state: 'ok', packages: 1 },
      warnings: [],
      components: [
        {
          kind: 'deb',
          name: 'libc6',
          version: '2.36-9+deb12u1',
          source: 'glibc',
          sourceVersion: '2.36-9+deb12u1',
          purl: 'a',
        },
        { kind: 'npm', name: 'x', version: '1.0.0', purl: 'b' },
      ],
    };
    const feed = indexFeed({
      records: [
        rec({
          id: 'CVE-1',
          pkg: 'glibc',
          release: 'bookworm',
          ranges: [{ fixed: '2.36-9+deb12u3' }],
          kev: true,
        }),
        rec({ id: 'CVE-2', pkg: 'glibc', release: 'bullseye', ranges: [{ fixed: '9' }] }),
        rec({ id: 'CVE-3', pkg: 'libc6', ranges: [{ fixed: '9' }] }),
        rec({ id: 'CVE-4', pkg: 'glibc', severity: 'critical' }),
        rec({ id: 'CVE-5', eco: 'npm', pkg: 'x', severity: 'critical', ranges: [{ fixed: '1.0.1' }] }),
        rec({ id: 'CVE-6', eco: 'npm', pkg: 'x', severity: 'high', ranges: [{ fixed: '1.0.1' }] }),
      ],
    });
    const f = matchFeed(inv, feed);
    assert.deepEqual(
      f.map((x) => x.id),
      ['CVE-1', 'CVE-4', 'CVE-5', 'CVE-6'],
    );
    assert.deepEqual(
      urgentFindings(f).map((x) => x.id),
      ['CVE-1', 'CVE-5'],
      'CVE-4 has no fix, CVE-6 is not critical',
    );
  });
});

describe('feed documents and parsers', () => {
  it('the fast record check never accepts what the record schema refuses', () => {
    const any = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.integer(),
      fc.boolean(),
      fc.constant(undefined),
      fc.constant(null),
      fc.constant([]),
      fc.double(),
    );
    const field = fc.constantFrom(
      'id',
      'eco',
      'pkg',
      'release',
      'ranges',
      'severity',
      'cvss',
      'kev',
      'summary',
      'extra',
    );
    // A valid record with up to two fields replaced by anything: near the boundary, where the two checks could differ.
    const record = fc
      .tuple(
        fc.array(fc.tuple(field, any), { maxLength: 2 }),
        fc.option(fc.tuple(fc.nat(2), any), { nil: undefined }),
      )
      .map(([muts, rangeMut]) => {
        const r: Record<string, unknown> = {
          id: 'CVE-2024-1',
          eco: 'deb',
          pkg: 'glibc',
          release: 'bookworm',
          ranges: [{ fixed: '2.36-9+deb12u3' }],
          severity: 'high',
          cvss: 7.8,
          kev: true,
          summary: 's',
        };
        for (const [k, v] of muts) r[k] = v;
        if (rangeMut) r.ranges = [{ [['introduced', 'fixed', 'other'][rangeMut[0]]]: rangeMut[1] }];
        return r;
      });
    let accepted = 0;
    fc.assert(
      fc.property(record, (r) => {
        if (!parseFeedBody({ records: [r] }).ok) return;
        accepted++;
        assert.ok(validate(recordSchema, r).ok, JSON.stringify(r));
      }),
      { numRuns: 3000, seed: 17 },
    );
    assert.ok(accepted >= 30, `only ${accepted} generated records were valid`);
  });

  it('bounds: a feed above maxRecords or maxBytes is refused', () => {
    assert.deepEqual([MAX_FEED_BYTES, MAX_FEED_RECORDS], [32 * 1024 * 1024, 500_000]);
    const t = tempDir();
    try {
      const root = docKey();
      const key = docKey();
      trustProfilesKey(t.dir, root, key);
      const store = new TrustStore(t.dir, root.b64);
      store.load();
      const doc = makeDoc('vulnerabilities', 1, { sources: [], records: [rec({}), rec({}), rec({})] }, key);
      assert.equal(loadFeed(doc, store).records.length, 3);
      assert.throws(() => loadFeed(doc, store, { maxRecords: 2 }), /SCHEMA|at most 2 records/);
      assert.throws(
        () => loadFeed(doc, store, { maxBytes: 100 }),
        (e: Error & { code?: string }) => e.code === 'TOO_LARGE',
      );
    } finally {
      t.cleanup();
    }
  });

  it('reads the kernel package version from /proc/version (Debian and Raspberry Pi OS builds)', () => {
    assert.deepEqual(
      parseKernel(
        '6.6.31+rpt-rpi-v8\n',
        'Linux version 6.6.31+rpt-rpi-v8 (serge@raspberrypi.com) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT Debian 1:6.6.31-1+rpt1 (2024-05-29)\n',
      ),
      { release: '6.6.31+rpt-rpi-v8', debianVersion: '1:6.6.31-1+rpt1' },
    );
    assert.deepEqual(parseKernel('6.18.0-custom', 'Linux version 6.18.0-custom (me@host) #3 SMP'), {
      release: '6.18.0-custom',
    });
  });

  it('a dpkg stanza in a state without files on disk is not listed; a duplicated field is corrupt', () => {
    const s = (name: string, state: string) =>
      `Package: ${name}\nStatus: install ok ${state}\nArchitecture: arm64\nVersion: 1.0-1\n`;
    const pkgs = parseDpkgStatus(
      Buffer.from([s('pa', 'installed'), s('pb', 'config-files'), s('pc', 'half-configured')].join('\n')),
    );
    assert.deepEqual(
      pkgs.map((p) => `${p.name}:${p.state}`),
      ['pa:installed', 'pc:half-configured'],
    );
    assert.throws(
      () => parseDpkgStatus(Buffer.from(`${s('pa', 'installed')}Version: 2\n`)),
      /line 5: Version appears twice/,
    );
    assert.throws(() => parseDpkgStatus(Buffer.from(s('pa', 'kaputt'))), /line 1: pa: Status/);
  });

  it('a lock file without "packages" (lockfileVersion 1) is refused with the reason', () => {
    assert.throws(
      () => parseLockfile('{"lockfileVersion":1,"dependencies":{}}'),
      /lockfileVersion 1 has no "packages"/,
    );
    assert.throws(() => parseLockfile('{'), /not JSON/);
  });

  it('CVSS v3 base scores from vectors, as FIRST computes them', () => {
    const cases: [string, number][] = [
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10],
      ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 7.8],
      ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', 8.1],
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1],
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 7.5],
      ['CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N', 1.6],
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N', 0],
    ];
    for (const [v, want] of cases) assert.equal(cvss3BaseScore(v), want, v);
    assert.equal(
      cvss3BaseScore('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N'),
      undefined,
    );
    assert.deepEqual([9.8, 7.0, 4.0, 0.1, 0].map(severityOf), [
      'critical',
      'high',
      'medium',
      'low',
      'unknown',
    ]);
  });

  it('an advisory naming a package in several affected lines keeps every range (protobufjs 6.x and 7.x)', () => {
    const t = tempDir();
    try {
      const f = `${t.dir}/osv.json`;
      const line = (introduced: string, fixed: string) => ({
        package: { ecosystem: 'npm', name: 'protobufjs' },
        ranges: [{ type: 'SEMVER', events: [{ introduced }, { fixed }] }],
      });
      writeFileSync(
        f,
        JSON.stringify({
          id: 'GHSA-h755-8qp9-cq85',
          aliases: ['CVE-2023-36665'],
          affected: [line('6.10.0', '6.11.4'), line('7.0.0', '7.2.4'), line('7.0.0', '7.2.4')],
          database_specific: { severity: 'CRITICAL' },
        }),
      );
      const { body, skipped } = buildFeedBody({ osv: [f] });
      assert.equal(body.records.length, 1);
      assert.equal(skipped.duplicate, 1, 'the repeated line is a duplicate');
      for (const v of ['6.10.1', '7.2.3']) assert.notEqual(affects(body.records[0], v), undefined, v);
      assert.equal(affects(body.records[0], '7.2.4'), undefined);
    } finally {
      t.cleanup();
    }
  });
});
