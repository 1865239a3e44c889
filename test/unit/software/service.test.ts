import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import {
  ManualClock,
  Severity as Sev,
  type Severity,
  type StreamItem,
  silentLogger,
} from '../../../agent/src/core/index.js';
import {
  LAST_GOOD_FEED,
  MAX_CHANGES_LISTED,
  MAX_CVES_PER_EVENT,
  MAX_SBOM_REPORT_BYTES,
  MAX_VULN_EVENTS_PER_RUN,
  readInventory,
  readSoftwareSummary,
  SoftwareService,
} from '../../../agent/src/software/index.js';
import { TrustStore } from '../../../agent/src/trust/index.js';
import { tempDir } from '../../helpers/paths.js';
import { cycloneDxValidator, fixtureFeed, IMAGE, trustProfilesKey } from '../../helpers/software.js';
import { docKey, makeDoc } from '../../helpers/trust.js';

interface Raised {
  type: string;
  subject: string;
  details: Record<string, string>;
  severity?: Severity;
}

describe('software service: inventory, events, SBOM report, feed in force', () => {
  const t = tempDir();
  const root = join(t.dir, 'root');
  const data = join(t.dir, 'data');
  const rootKey = docKey();
  const profilesKey = docKey();
  const feedFile = join(t.dir, 'feed.json');
  const status = join(root, 'var/lib/dpkg/status');
  let raised: Raised[] = [];
  let reports: StreamItem[] = [];
  const clock = new ManualClock(Date.parse('2026-11-26T12:00:00Z'));
  let clockTrusted = true;
  const make = (o: { lockfile?: string } = {}) =>
    new SoftwareService({
      root,
      schedule: '0 0 0 1 1 *',
      feedFile,
      stateDir: data,
      deviceId: 'lamp-cab-0412',
      agentVersion: '0.1.0',
      trust: () => {
        const s = new TrustStore(data, rootKey.b64);
        s.load();
        return s;
      },
      audience: () => ({
        deviceId: 'lamp-cab-0412',
        groups: ['district-7'],
        nowMs: clock.now(),
        clockTrusted,
      }),
      raise: (type, subject, details, severity) => raised.push({ type, subject, details, severity }),
      submit: async (items) => {
        reports.push(...items);
      },
      clock,
      random: { bytes: (n) => new Uint8Array(n).fill(7) },
      log: silentLogger(),
      lockfile: o.lockfile,
    });
  const take = () => {
    const r = raised;
    raised = [];
    return r;
  };
  const sbomOf = (item: StreamItem | undefined) => {
    assert.ok(item && 'report' in item && item.report.kind === 'sbom');
    assert.equal(item.report.contentType, 'application/vnd.cyclonedx+json+gzip');
    return JSON.parse(gunzipSync(item.report.body).toString('utf8')) as {
      components: unknown[];
      vulnerabilities?: { id: string }[];
    };
  };
  let svc: SoftwareService;

  before(async () => {
    cpSync(IMAGE, root, { recursive: true });
    trustProfilesKey(data, rootKey, profilesKey);
    cpSync(fixtureFeed(t.dir, profilesKey, 3), feedFile);
    svc = make();
    await svc.start();
  });
  after(async () => {
    await svc.stop();
    t.cleanup();
  });

  it('at start: one software.vulnerable per package with findings (known exploited ones critical), and the SBOM report', () => {
    const ev = take();
    assert.deepEqual(
      ev.filter((e) => e.type === 'software.changed'),
      [],
      'the first inventory is the baseline',
    );
    const v = Object.fromEntries(
      ev
        .filter((e) => e.type === 'software.vulnerable')
        .map((e) => [e.subject, [e.details.cves, e.severity]]),
    );
    assert.deepEqual(v, {
      'deb:glibc': ['CVE-2023-4911', Sev.CRITICAL],
      'deb:kernel': ['CVE-2024-1086', Sev.CRITICAL],
      'deb:openssh': ['CVE-2024-6387', Sev.HIGH],
      'deb:openssl': ['CVE-2023-5363', Sev.LOW],
      'npm:node-forge': ['CVE-2025-12816', Sev.HIGH],
      'npm:semver': ['CVE-2022-25883', Sev.HIGH],
    });
    const glibc = ev.find((e) => e.subject === 'deb:glibc');
    assert.equal(glibc?.details.fixed, '2.36-9+deb12u3');
    assert.equal(glibc?.details.kev, 'true');
    assert.equal(reports.length, 1);
    const bom = sbomOf(reports[0]);
    assert.deepEqual(cycloneDxValidator()(bom), []);
    assert.equal(bom.vulnerabilities?.length, 6);
    assert.equal(svc.feedVersion, 3);
  });

  it('an unchanged gateway raises nothing and sends nothing again', async () => {
    reports = [];
    await svc.runNow();
    assert.deepEqual(take(), []);
    assert.equal(reports.length, 0);
  });

  it('an upgrade, a removal and an install raise one software.changed; the fixed CVE is gone from the report', async () => {
    let s = readFileSync(status, 'utf8');
    for (const p of ['libc6', 'libc-bin', 'libc-l10n'])
      s = s.replace(
        new RegExp(`(Package: ${p}\\n(?:[^\\n]+\\n)*?Version: )2\\.36-9\\+deb12u1`),
        '$12.36-9+deb12u3',
      );
    s = s.replace(/\nPackage: bc\n[\s\S]*?\n\n/, '\n');
    s +=
      '\nPackage: nano\nStatus: install ok installed\nPriority: optional\nSection: editors\nArchitecture: arm64\nVersion: 7.2-1+deb12u1\nDescription: small, friendly text editor\n';
    writeFileSync(status, s);
    reports = [];
    const findings = await svc.runNow();
    const ev = take();
    assert.equal(ev.length, 1, JSON.stringify(ev));
    assert.equal(ev[0].type, 'software.changed');
    assert.deepEqual(
      [ev[0].details.installed, ev[0].details.removed, ev[0].details.upgraded, ev[0].details.downgraded],
      ['1', '1', '3', '0'],
    );
    assert.match(ev[0].details.changes, /deb:libc6:arm64 2\.36-9\+deb12u1 -> 2\.36-9\+deb12u3/);
    assert.match(ev[0].details.changes, /\+deb:nano:arm64 7\.2-1\+deb12u1/);
    assert.match(ev[0].details.changes, /-deb:bc:arm64/);
    assert.equal(
      findings?.some((f) => f.id === 'CVE-2023-4911'),
      false,
    );
    assert.equal(reports.length, 1);
    assert.equal(
      sbomOf(reports[0]).vulnerabilities?.some((v) => v.id === 'CVE-2023-4911'),
      false,
    );
  });

  it('refuses a bad signature, an older version, a wrong type and a malformed record, each once with its reason; the feed in force stays', async () => {
    const other = docKey();
    const cases: [string, Buffer, RegExp][] = [
      [
        'bad signature',
        makeDoc('vulnerabilities', 9, { sources: [], records: [] }, other),
        /^BAD_SIGNATURE: /,
      ],
      [
        'older version',
        makeDoc('vulnerabilities', 2, { sources: [], records: [] }, profilesKey),
        /^STALE_VERSION: feed version 2 is older than 3/,
      ],
      [
        'wrong type',
        makeDoc('profiles', 10, { profiles: [] }, profilesKey),
        /^WRONG_TYPE: a profiles document where vulnerabilities was expected/,
      ],
      [
        'malformed record',
        makeDoc(
          'vulnerabilities',
          11,
          {
            sources: ['x'],
            records: [{ id: 'CVE-2024-0001', eco: 'pypi', pkg: 'x', ranges: [], severity: 'high' }],
          },
          profilesKey,
        ),
        /^SCHEMA: body\.records\[0\]\.eco: /,
      ],
      [
        'bad version in a range',
        makeDoc(
          'vulnerabilities',
          12,
          {
            sources: ['x'],
            records: [
              {
                id: 'CVE-2024-0002',
                eco: 'deb',
                pkg: 'bash',
                ranges: [{ fixed: 'not a version' }],
                severity: 'high',
              },
            ],
          },
          profilesKey,
        ),
        /^SCHEMA: body\.records\[0\]\.ranges\[0\]\.fixed: /,
      ],
    ];
    for (const [what, doc, why] of cases) {
      svc.onFeedDocument(doc);
      await svc.runNow();
      const ev = take().filter((e) => e.type === 'vulnerabilities.rejected');
      assert.equal(ev.length, 1, what);
      assert.match(ev[0].details.reason, why, what);
      assert.equal(ev[0].details.inForce, '3', what);
      assert.equal(svc.feedVersion, 3, what);
      assert.ok((svc.last?.findings.length ?? 0) > 0, `${what}: the last good feed still judges`);
    }
    // The retained copy of the feed in force, delivered again on a reconnect, is no news.
    svc.onFeedDocument(readFileSync(feedFile));
    await svc.runNow();
    assert.deepEqual(take(), []);
  });

  it('a newer feed from the retained topic takes over and survives a restart as the last good one', async () => {
    const v5 = makeDoc(
      'vulnerabilities',
      5,
      {
        sources: ['test'],
        records: [
          {
            id: 'CVE-2099-0001',
            eco: 'deb',
            pkg: 'bash',
            ranges: [{ fixed: '5.2.15-3' }],
            severity: 'critical',
          },
        ],
      },
      profilesKey,
    );
    svc.onFeedDocument(v5);
    const findings = await svc.runNow();
    assert.equal(svc.feedVersion, 5);
    assert.deepEqual(
      findings?.map((f) => `${f.id} ${f.component.name}`),
      ['CVE-2099-0001 bash'],
    );
    const s = svc.summary();
    assert.deepEqual(
      [s?.vulnerablePackages, s?.cves, s?.knownExploited, s?.critical, s?.urgent, s?.feed?.version],
      [1, 1, 0, 1, 1, 5],
    );
    assert.deepEqual(readSoftwareSummary(data), s, 'recorded for status while the daemon is stopped');
    assert.ok(take().some((e) => e.type === 'software.vulnerable' && e.subject === 'deb:bash'));
    assert.ok(existsSync(join(data, LAST_GOOD_FEED)));
    await svc.stop();
    rmSync(feedFile);
    svc = make();
    await svc.start();
    assert.equal(svc.feedVersion, 5);
    assert.deepEqual(take(), [], 'nothing new after a restart');
  });

  it('bounds: at most MAX_VULN_EVENTS_PER_RUN events (the rest summed up), MAX_CVES_PER_EVENT ids, MAX_CHANGES_LISTED changes', async () => {
    assert.deepEqual([MAX_VULN_EVENTS_PER_RUN, MAX_CVES_PER_EVENT, MAX_CHANGES_LISTED], [100, 20, 40]);
    const sources = [
      ...new Set(readInventory(root).components.flatMap((c) => (c.kind === 'deb' ? [c.source] : []))),
    ];
    assert.ok(sources.length > MAX_VULN_EVENTS_PER_RUN + 10);
    const records = [
      ...sources.map((pkg, i) => ({
        id: `CVE-2099-${String(1000 + i)}`,
        eco: 'deb',
        pkg,
        ranges: [],
        severity: 'low',
      })),
      ...Array.from({ length: 25 }, (_, i) => ({
        id: `CVE-2098-${1000 + i}`,
        eco: 'deb',
        pkg: 'glibc',
        ranges: [],
        severity: 'critical',
      })),
    ];
    svc.onFeedDocument(makeDoc('vulnerabilities', 6, { sources: ['test'], records }, profilesKey));
    await svc.runNow();
    const ev = take().filter((e) => e.type === 'software.vulnerable');
    assert.equal(ev.length, MAX_VULN_EVENTS_PER_RUN + 1);
    const more = ev.find((e) => e.subject === 'more');
    // One group per source package, and the running kernel (a `linux` record) as one more.
    assert.equal(Number(more?.details.packages), sources.length + 1 - MAX_VULN_EVENTS_PER_RUN);
    const glibc = ev.find((e) => e.subject === 'deb:glibc');
    assert.equal(glibc?.severity, Sev.CRITICAL, 'the worst first: glibc is among the listed ones');
    assert.equal(glibc?.details.cves.split(',').length, MAX_CVES_PER_EVENT);
    assert.match(glibc?.details.cves ?? '', / and 6 more$/);
    writeFileSync(status, readFileSync(status, 'utf8').replace(/^Version: (.*)$/gm, 'Version: 9:$1'));
    await svc.runNow();
    const changed = take().find((e) => e.type === 'software.changed');
    // Epoch 9 puts every package (302 installed, one of them config-files only) above what it was.
    assert.equal(Number(changed?.details.upgraded), 302);
    assert.equal(changed?.details.changes.split(', ').length, MAX_CHANGES_LISTED + 1);
    assert.match(changed?.details.changes ?? '', /and 262 more$/);
  });

  it('an SBOM over MAX_SBOM_REPORT_BYTES compressed is not sent (the envelope cap would refuse it at the collector)', async () => {
    assert.equal(MAX_SBOM_REPORT_BYTES, 200 * 1024);
    const lock = join(t.dir, 'huge-lock.json');
    const packages: Record<string, { version: string }> = { '': { version: '1.0.0' } };
    for (let i = 0; i < 12_000; i++)
      packages[`node_modules/p${(i * 2654435761).toString(36)}${Math.random().toString(36).slice(2, 10)}`] = {
        version: `${i % 97}.${i % 13}.${i}`,
      };
    writeFileSync(lock, JSON.stringify({ name: 'x', version: '1.0.0', lockfileVersion: 3, packages }));
    await svc.stop();
    svc = make({ lockfile: lock });
    reports = [];
    await svc.start();
    assert.equal(svc.last?.inventory.components.filter((c) => c.kind === 'npm').length, 12_001);
    assert.equal(reports.length, 0);
  });

  it('a feed for other gateways or expired is refused with its reason; one whose expiry the clock cannot judge yet waits; the feed in force stays', async () => {
    const v = svc.feedVersion;
    const body = { sources: ['test'], records: [] };
    const cases: [Buffer, RegExp][] = [
      [
        makeDoc('vulnerabilities', 20, body, profilesKey, { target: { devices: ['lamp-cab-0999'] } }),
        /^NOT_TARGETED: targets other devices/,
      ],
      [
        makeDoc('vulnerabilities', 21, body, profilesKey, { notAfter: '2026-11-01T00:00:00Z' }),
        /^EXPIRED: expired at 2026-11-01T00:00:00Z/,
      ],
    ];
    for (const [doc, why] of cases) {
      svc.onFeedDocument(doc);
      await svc.runNow();
      const ev = take().filter((e) => e.type === 'vulnerabilities.rejected');
      assert.equal(ev.length, 1, String(why));
      assert.match(ev[0].details.reason, why);
      assert.equal(ev[0].details.inForce, String(v));
      assert.equal(svc.feedVersion, v, 'the last good feed stays in force');
    }
    // For this gateway's group, valid until December: while the clock is not trusted it waits.
    const ok = makeDoc('vulnerabilities', 22, body, profilesKey, {
      target: { groups: ['district-7'] },
      notAfter: '2026-12-01T00:00:00Z',
    });
    clockTrusted = false;
    svc.onFeedDocument(ok);
    await svc.runNow();
    assert.match(
      take().find((e) => e.type === 'vulnerabilities.rejected')?.details.reason ?? '',
      /^DEFERRED: /,
    );
    assert.equal(svc.feedVersion, v);
    clockTrusted = true;
    await svc.runNow();
    assert.equal(svc.feedVersion, 22, 'taken once the clock is trusted');
    // Past its expiry, the one in force stays across a restart (shown as expired, see the summary).
    clock.setWall(Date.parse('2026-12-05T00:00:00Z'));
    await svc.stop();
    svc = make();
    await svc.start();
    assert.equal(svc.feedVersion, 22);
    assert.deepEqual(
      [svc.summary()?.feed?.expired, svc.summary()?.feed?.ageDays],
      [true, 8],
      'shown as expired, 8 days after it was issued',
    );
  });
});
