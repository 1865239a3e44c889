import assert from 'node:assert/strict';
import { copyFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { auditContext, runAudit } from '../../../agent/src/audit/index.js';
import { loadConfig } from '../../../agent/src/config/index.js';
import {
  indexFeed,
  loadFeed,
  matchFeed,
  readInventory,
  SOFTWARE_STATE,
  type SoftwareSummary,
  summarize,
} from '../../../agent/src/software/index.js';
import { TrustStore } from '../../../agent/src/trust/index.js';
import { cli, writeConfig } from '../../helpers/agent.js';
import { tempDir } from '../../helpers/paths.js';
import {
  cycloneDxValidator,
  fixtureFeed,
  IMAGE,
  trustProfilesKey,
  vulnfeed,
} from '../../helpers/software.js';
import { docKey, makeDoc } from '../../helpers/trust.js';

interface CdxVuln {
  id: string;
  affects?: { ref: string }[];
  ratings?: { severity?: string; score?: number }[];
  properties?: { name: string; value: string }[];
}

describe('SBOM and vulnerabilities of the fixture Debian 12 image', () => {
  const t = tempDir();
  const rootKey = docKey();
  const profilesKey = docKey();
  let config = '';
  let feed = '';
  before(() => {
    const home = join(t.dir, 'agent');
    config = writeConfig(home, {
      trust: { rootKey: rootKey.b64 },
      software: { feed: join(home, 'feed.json') },
    });
    trustProfilesKey(join(home, 'data'), rootKey, profilesKey);
    feed = fixtureFeed(t.dir, profilesKey, 3);
    copyFileSync(feed, join(home, 'feed.json'));
  });
  after(() => t.cleanup());

  it('reads every installed package of the dpkg database, the running kernel and the production npm packages', () => {
    const inv = readInventory(IMAGE);
    assert.equal(inv.dpkg.state, 'ok');
    // 303 stanzas, one of them `deinstall ok config-files`.
    assert.equal(inv.dpkg.packages, 302);
    assert.equal(inv.os?.codename, 'bookworm');
    const bash = inv.components.find((c) => c.name === 'bash');
    assert.deepEqual(
      { v: bash?.version, s: bash?.source, sv: bash?.sourceVersion, arch: bash?.arch },
      { v: '5.2.15-2+b8', s: 'bash', sv: '5.2.15-2', arch: 'arm64' },
    );
    assert.equal(
      inv.components.find((c) => c.name === 'libc6')?.purl,
      'pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=arm64&distro=debian-12&upstream=glibc',
    );
    assert.equal(
      inv.components.find((c) => c.name === 'openssh-server')?.purl,
      'pkg:deb/debian/openssh-server@1:9.2p1-2%2Bdeb12u2?arch=arm64&distro=debian-12&upstream=openssh',
    );
    const kernel = inv.components.find((c) => c.kind === 'kernel');
    assert.deepEqual([kernel?.version, kernel?.debianVersion], ['6.1.0-18-arm64', '6.1.69-1']);
    const npm = inv.components.filter((c) => c.kind === 'npm').map((c) => c.purl);
    // The dev dependency (minimist) is left out; the nested copy of semver 7.5.1 is the same component.
    assert.deepEqual(npm, [
      'pkg:npm/edge-agent@0.1.0',
      'pkg:npm/mqtt@5.16.0',
      'pkg:npm/node-forge@1.3.1',
      'pkg:npm/semver@7.5.1',
    ]);
    assert.equal(
      inv.components.some((c) => c.name === 'oldconf-example'),
      false,
    );
  });

  it('the builder reports what it kept and left out', () => {
    const r = vulnfeed(['--help']);
    assert.equal(r.code, 0);
    const doc = JSON.parse(readFileSync(feed, 'utf8')) as { signed: string };
    const body = JSON.parse(Buffer.from(doc.signed, 'base64').toString('utf8')).body as {
      sources: string[];
      records: { id: string; pkg: string; kev?: boolean; cvss?: number }[];
    };
    assert.deepEqual(body.sources, ['debian-security-tracker', 'osv', 'cisa-kev']);
    const ids = body.records.map((r) => `${r.id} ${r.pkg}`).sort();
    assert.ok(!ids.includes('CVE-2024-3094 xz-utils'), 'a release never affected is left out');
    assert.ok(!ids.some((i) => i.startsWith('TEMP-')), 'open unimportant issues are left out');
    assert.equal(
      ids.filter((i) => i === 'CVE-2024-6387 openssh').length,
      1,
      'the OSV copy of a tracker record is kept once',
    );
    const glibc = body.records.find((r) => r.id === 'CVE-2023-4911' && r.pkg === 'glibc');
    assert.deepEqual([glibc?.kev, glibc?.cvss], [true, 7.8]);
  });

  it('sbom --json is CycloneDX 1.6 that validates against the schema, with the planted vulnerabilities and nothing fixed', () => {
    const r = cli(['sbom', '--root', IMAGE, '--json'], { config });
    assert.equal(r.code, 1, r.stderr);
    const bom = JSON.parse(r.stdout) as {
      specVersion: string;
      components: { purl: string }[];
      vulnerabilities: CdxVuln[];
    };
    assert.deepEqual(cycloneDxValidator()(bom), []);
    assert.equal(bom.specVersion, '1.6');
    assert.equal(bom.components.length, 302 + 1 + 4);
    const found = Object.fromEntries(
      bom.vulnerabilities.map((v) => [v.id, (v.affects ?? []).map((a) => a.ref.replace(/\?.*$/, '')).sort()]),
    );
    assert.deepEqual(found, {
      'CVE-2023-4911': [
        'pkg:deb/debian/libc-bin@2.36-9%2Bdeb12u1',
        'pkg:deb/debian/libc-l10n@2.36-9%2Bdeb12u1',
        'pkg:deb/debian/libc6@2.36-9%2Bdeb12u1',
      ],
      'CVE-2024-6387': [
        'pkg:deb/debian/openssh-client@1:9.2p1-2%2Bdeb12u2',
        'pkg:deb/debian/openssh-server@1:9.2p1-2%2Bdeb12u2',
      ],
      'CVE-2023-5363': ['pkg:deb/debian/libssl3@3.0.11-1~deb12u1', 'pkg:deb/debian/openssl@3.0.11-1~deb12u1'],
      'CVE-2024-1086': ['pkg:generic/linux@6.1.0-18-arm64'],
      'CVE-2022-25883': ['pkg:npm/semver@7.5.1'],
      'CVE-2025-12816': ['pkg:npm/node-forge@1.3.1'],
    });
    const glibc = bom.vulnerabilities.find((v) => v.id === 'CVE-2023-4911');
    assert.deepEqual(glibc?.ratings?.[0], { severity: 'high', score: 7.8, method: 'CVSSv31' });
    assert.ok(glibc?.properties?.some((p) => p.name === 'edge-agent:kev' && p.value === 'true'));
    assert.ok(
      glibc?.properties?.some((p) => p.name === 'edge-agent:fixed:libc6' && p.value === '2.36-9+deb12u3'),
    );
  });

  it('prints one line per vulnerable package with the fix, and exits 1', () => {
    const r = cli(['sbom', '--root', IMAGE], { config });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /302 Debian package\(s\), kernel 6\.1\.0-18-arm64, 4 npm package\(s\).*feed v3/);
    assert.match(r.stdout, /CVE-2023-4911\s+high\s+7\.8\s+yes\s+libc6\s+2\.36-9\+deb12u1\s+2\.36-9\+deb12u3/);
    assert.match(r.stdout, /CVE-2024-1086\s+unknown\s+-\s+yes\s+linux\s+6\.1\.0-18-arm64\s+6\.1\.76-1/);
    assert.doesNotMatch(
      r.stdout,
      /CVE-2023-38545|CVE-2024-3094|CVE-2022-3715|CVE-2024-28085|CVE-2021-44906|CVE-2021-3156/,
    );
  });

  it('the ETSI 5.3 check fails on the known exploited glibc and kernel flaws with a fix, naming them', async () => {
    const cfg = loadConfig(config);
    const report = await runAudit(auditContext(IMAGE, cfg, { probe: false }), Date.now());
    const c = report.checks.find((x) => x.id === 'software.vulnerabilities');
    assert.equal(c?.status, 'fail', c?.detail);
    assert.deepEqual(c?.evidence.map((e) => e.text.split(':')[0]).sort(), [
      'CVE-2023-4911 in libc-bin 2.36-9+deb12u1',
      'CVE-2023-4911 in libc-l10n 2.36-9+deb12u1',
      'CVE-2023-4911 in libc6 2.36-9+deb12u1',
      'CVE-2024-1086 in linux 6.1.0-18-arm64',
    ]);
    assert.ok(report.highFailures.includes('software.vulnerabilities'));
    assert.ok(report.etsi.find((p) => p.provision === '5.3-8')?.status === 'non-compliant');
  });

  it('a corrupt dpkg status file is not-readable in the audit and an error for sbom, never a pass', async () => {
    const img = join(t.dir, 'corrupt-image');
    cpSync(IMAGE, img, { recursive: true });
    const status = join(img, 'var/lib/dpkg/status');
    const text = readFileSync(status, 'utf8');
    const cases: [string, string, RegExp][] = [
      [
        'garbage line',
        text.replace('\nPackage: bash\n', '\nPackage: bash\n<<<garbage>>>\n'),
        /neither a field/,
      ],
      ['truncated', text.slice(0, text.indexOf('Version:', text.length - 2000)), /without a Version/],
      ['bad version', text.replace('Version: 5.2.15-2+b8', 'Version: five'), /bash: .*upstream version/],
      ['empty', '', /no installed package/],
      ['invalid UTF-8', `${text.slice(0, 100)}\xff\xfe${text.slice(100)}`, /UTF-8/],
    ];
    const cfg = loadConfig(config);
    for (const [what, content, why] of cases) {
      writeFileSync(status, what === 'invalid UTF-8' ? Buffer.from(content, 'latin1') : content);
      const report = await runAudit(auditContext(img, cfg, { probe: false }), Date.now());
      const c = report.checks.find((x) => x.id === 'software.vulnerabilities');
      assert.equal(c?.status, 'not-readable', `${what}: ${c?.detail}`);
      assert.match(c?.detail ?? '', why, what);
      const r = cli(['sbom', '--root', img, '--json'], { config });
      assert.equal(r.code, 2, what);
      // --json failures are {error: {code, message}} on stdout (the CLI's rule): no SBOM, no stack trace.
      const err = JSON.parse(r.stdout) as { error: { code: string; message: string } };
      assert.equal(err.error.code, 'DPKG_STATUS_CORRUPT', what);
      assert.match(err.error.message, why, what);
      assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, `${what}: no stack trace`);
    }
  });

  it('a refused feed file leaves nothing judged, says why, and the check is not a pass', async () => {
    const home = join(t.dir, 'other');
    const other = docKey();
    const cfgFile = writeConfig(home, {
      trust: { rootKey: rootKey.b64 },
      software: { feed: join(home, 'feed.json') },
    });
    trustProfilesKey(join(home, 'data'), rootKey, profilesKey);
    writeFileSync(
      join(home, 'feed.json'),
      makeDoc('vulnerabilities', 1, { sources: [], records: [] }, other),
    );
    const r = cli(['sbom', '--root', IMAGE], { config: cfgFile });
    assert.match(r.stderr, /vulnerability feed refused: BAD_SIGNATURE/);
    assert.equal(r.code, 0);
    const report = await runAudit(auditContext(IMAGE, loadConfig(cfgFile), { probe: false }), Date.now());
    const c = report.checks.find((x) => x.id === 'software.vulnerabilities');
    assert.equal(c?.status, 'not-applicable');
    assert.match(c?.detail ?? '', /BAD_SIGNATURE/);
  });

  it("status and doctor show the gateway's own findings: vulnerable packages, known-exploited and critical CVEs, the feed and its age", () => {
    const home = join(t.dir, 'agent-status');
    const cfgFile = writeConfig(home, {
      trust: { rootKey: rootKey.b64 },
      software: { feed: join(home, 'feed.json') },
      monitor: { root: IMAGE, auth: { source: 'off' }, listeners: { enabled: false } },
      mqtt: { url: 'mqtts://127.0.0.1:1', ca: 'ca.crt', cert: 'gw.crt', key: 'gw.key' },
    });
    trustProfilesKey(join(home, 'data'), rootKey, profilesKey);
    copyFileSync(feed, join(home, 'feed.json'));
    // The fixture feed was issued 2026-11-26: its age is counted from then.
    const age = Math.floor((Date.now() - Date.parse('2026-11-26T12:00:00Z')) / 86_400_000);
    const line = new RegExp(
      `(\\d+) vulnerable package\\(s\\) \\(2 known-exploited, 0 critical CVE\\(s\\)\\); feed v3, ${age} day\\(s\\) old`,
    );
    const d = cli(['doctor', '--json'], { config: cfgFile });
    const rows = (
      JSON.parse(d.stdout) as { checks: { id: string; status: string; detail: string; fix?: string }[] }
    ).checks;
    const sw = rows.find((r) => r.id === 'software');
    assert.equal(sw?.status, 'fail', d.stdout);
    assert.match(sw?.detail ?? '', line);
    const vulnerable = Number(line.exec(sw?.detail ?? '')?.[1]);
    // Three glibc binaries, the kernel, three of openssh, two of openssl... as the CVE list of `sbom` names them.
    assert.equal(vulnerable, 10);
    assert.match(sw?.fix ?? '', /known-exploited or critical/);

    // Daemon stopped: `status` shows what it recorded last.
    const inv = readInventory(IMAGE);
    const trust = new TrustStore(join(home, 'data'), rootKey.b64);
    trust.load();
    const f = loadFeed(readFileSync(feed), trust);
    const findings = matchFeed(inv, indexFeed(f));
    const summary = summarize(inv, findings, f, Date.parse('2026-12-01T00:00:00Z'));
    writeFileSync(
      join(home, 'data', SOFTWARE_STATE),
      JSON.stringify({ versions: {}, findings: [], digest: '', summary }),
    );
    const s = cli(['status'], { config: cfgFile });
    assert.equal(s.code, 0, s.stderr);
    assert.match(
      s.stdout,
      new RegExp(
        `software: ${vulnerable} vulnerable package\\(s\\) \\(2 known-exploited, 0 critical CVE\\(s\\)\\); feed v3, 4 day\\(s\\) old \\(at 2026-12-01T00:00:00.000Z\\)`,
      ),
    );
    const j = JSON.parse(cli(['status', '--json'], { config: cfgFile }).stdout) as {
      software: SoftwareSummary;
    };
    assert.deepEqual(
      [
        j.software.vulnerablePackages,
        j.software.knownExploited,
        j.software.critical,
        j.software.feed?.version,
      ],
      [vulnerable, 2, 0, 3],
    );
    assert.equal(j.software.feed?.expired, false);

    // review #17, #13: what `status` reads back are files on disk: a corrupt or hostile one is
    // left out (said so in --json), never "undefined" figures, a crash or terminal escapes.
    const audit = join(home, 'data', 'audit-state.json');
    const link = { url: 'mqtts://x', state: 'offline', delivery: { inflight: 0, window: 8 } };
    for (const [sw, au, sy] of [
      [{ summary: 'x' }, { failing: 'abc', score: 'high', checkedAt: 1 }, { state: 'x' }],
      [
        { summary: { ...summary, vulnerablePackages: '7', feed: 5 } },
        { failing: [{}], score: 1 },
        { ...link, lastError: 'boom' },
      ],
      [
        { summary: { ...summary, feedRefused: '\u001b[2Jgone' } },
        [],
        { ...link, lastError: { code: 'X', message: '\u001b[2Jgone', at: 'now' } },
      ],
    ]) {
      writeFileSync(join(home, 'data', SOFTWARE_STATE), JSON.stringify(sw));
      writeFileSync(audit, JSON.stringify(au));
      writeFileSync(join(home, 'data', 'sync-state.json'), JSON.stringify(sy));
      const h = cli(['status'], { config: cfgFile });
      assert.equal(h.code, 0, h.stderr);
      assert.doesNotMatch(h.stdout + h.stderr, /undefined|NaN|TypeError|\[object/, h.stdout);
      assert.ok(!h.stdout.includes('\u001b'), 'no terminal escape reaches the terminal');
      const hj = JSON.parse(cli(['status', '--json'], { config: cfgFile }).stdout) as Record<string, unknown>;
      if (Array.isArray(au)) {
        assert.match(h.stdout, /refused: \\x1b\[2Jgone/, 'an escape is shown, not run');
        continue;
      }
      assert.equal(hj.software ?? null, null, JSON.stringify(sw));
      assert.equal(hj.audit ?? null, null, JSON.stringify(au));
      assert.equal(hj.link ?? null, null, JSON.stringify(sy));
    }
  });
});
