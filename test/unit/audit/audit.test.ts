import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditService, auditContext, probePlaintext } from '../../../agent/src/audit/index.js';
import { ManualClock, type StreamItem, silentLogger } from '../../../agent/src/core/index.js';
import { createCa } from '../../../scripts/pki/lib.js';
import { BIN, cli, writeConfig } from '../../helpers/agent.js';
import { makeGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/paths.js';

interface Report {
  score: number;
  highFailures: string[];
  checks: {
    id: string;
    status: string;
    detail: string;
    evidence: { file: string; line?: number; text: string }[];
    remedy: string;
    etsi: string[];
  }[];
  etsi: { provision: string; status: string }[];
}

describe('posture audit on fixture gateways', () => {
  const t = tempDir();
  const ca = createCa('fixture CA').certPem;
  const hardened = join(t.dir, 'hardened');
  const careless = join(t.dir, 'careless');
  before(() => {
    makeGateway(hardened, 'hardened', ca);
    makeGateway(careless, 'careless', ca);
  });
  after(() => t.cleanup());
  const audit = (root: string) => {
    const r = cli([
      'audit',
      '--root',
      root,
      '--no-probe',
      '--json',
      '--config',
      join(root, 'etc/edge-agent/config.json'),
    ]);
    return { code: r.code, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
  };

  it('a hardened gateway passes every check: no false positives', () => {
    const { code, report } = audit(hardened);
    const notPassing = report.checks
      .filter((c) => c.status !== 'pass')
      .map((c) => `${c.id}: ${c.status} ${c.detail}`);
    assert.deepEqual(notPassing, []);
    assert.equal(report.score, 100);
    assert.equal(code, 0);
    assert.ok(report.etsi.every((p) => p.status === 'compliant'));
    assert.ok(
      report.checks.find((c) => c.id === 'ssh.password-auth')?.evidence[0].line,
      'evidence names the line',
    );
  });

  it('a careless gateway fails every check, each for the right reason, with evidence and remedy', () => {
    const { code, report } = audit(careless);
    const by = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    const passing = report.checks
      .filter((c) => c.status !== 'fail')
      .map((c) => `${c.id}: ${c.status} ${c.detail}`);
    assert.deepEqual(passing, []);
    assert.equal(code, 1);
    const texts = (id: string) => by[id].evidence.map((e) => `${e.file} ${e.text}`).join(' | ');
    assert.match(
      texts('accounts.default-passwords'),
      /pi: password is a well-known default \(scheme \$y\$\)/,
      'yescrypt cracked',
    );
    assert.match(texts('accounts.default-passwords'), /admin: .*\$6\$/);
    assert.match(texts('accounts.default-passwords'), /root: .*\$1\$/);
    assert.match(texts('accounts.default-passwords'), /guest: empty password/);
    assert.match(texts('accounts.uid0'), /toor has UID 0/);
    assert.equal(by['ssh.root-login'].evidence[0].line, 2);
    assert.match(texts('ssh.password-auth'), /not set: OpenSSH's default applies/);
    assert.match(texts('ssh.crypto'), /aes128-cbc/);
    assert.match(texts('ssh.crypto'), /hmac-md5/);
    assert.match(texts('net.listeners'), /tcp\/23 on 0\.0\.0\.0/);
    assert.doesNotMatch(texts('net.listeners'), /127\.0\.0\.1/);
    assert.deepEqual(
      by['perms.agent-keys'].evidence.map((e) => `${e.file} ${e.text}`),
      [
        '/var/lib/edge-agent/identity/signing.key mode 0644',
        '/etc/edge-agent/tls.key mode 0640',
        '/var/lib/edge-agent mode 0755',
      ],
    );
    assert.match(texts('perms.shadow'), /mode 0644/);
    assert.match(texts('perms.world-writable-etc'), /\/etc\/crontab/);
    assert.match(texts('net.firewall'), /no input chain with policy drop/);
    assert.match(texts('debug.interfaces'), /console=serial0/);
    assert.match(texts('debug.interfaces'), /enable_uart=1/);
    assert.match(texts('transport.mqtt'), /not TLS/);
    assert.match(texts('transport.mqtt'), /insecurePlaintextForDevelopment/);
    assert.match(
      texts('software.vulnerabilities'),
      /\/var\/lib\/dpkg\/status CVE-2023-4911 in libc6 2\.36-9\+deb12u1: fixed in 2\.36-9\+deb12u3, known exploited, CVSS 7\.8/,
    );
    assert.ok(report.checks.every((c) => c.remedy.length > 10 && c.etsi.length > 0));
    assert.ok(report.score < 10, `score ${report.score}`);
    assert.ok(report.etsi.some((p) => p.provision === '5.1-1' && p.status === 'non-compliant'));
  });

  it('an input it cannot read is not-readable, never pass (run as nobody)', () => {
    for (const d of [t.dir, hardened]) chmodSync(d, 0o755);
    chmodSync(join(hardened, 'etc/shadow'), 0o600);
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=nobody',
        '--regid=nogroup',
        '--clear-groups',
        process.execPath,
        BIN,
        'audit',
        '--root',
        hardened,
        '--no-probe',
        '--json',
      ],
      { encoding: 'utf8' },
    );
    chmodSync(join(hardened, 'etc/shadow'), 0o640);
    const report = JSON.parse(r.stdout) as Report;
    const pw = report.checks.find((c) => c.id === 'accounts.default-passwords');
    assert.equal(pw?.status, 'not-readable', pw?.detail);
    assert.match(pw?.detail ?? '', /CAP_DAC_READ_SEARCH or the shadow group/);
    assert.ok(report.etsi.some((p) => p.provision === '5.1-1' && p.status === 'unknown'));
  });

  it("the daemon's audit raises an event for each newly failing high-severity check, and sends the report", async () => {
    const events: { type: string; subject: string; severity?: number }[] = [];
    const reports: StreamItem[] = [];
    const state = join(t.dir, 'state');
    mkdirSync(state);
    const svc = new AuditService({
      schedule: '0 0 0 1 1 *',
      context: () => auditContext(careless, null),
      stateDir: state,
      raise: (type, subject, _d, severity) => events.push({ type, subject, severity }),
      submit: async (items) => {
        reports.push(...items);
      },
      clock: new ManualClock(),
      log: silentLogger(),
    });
    const r = await svc.runNow();
    assert.ok(r && r.highFailures.length >= 8);
    assert.deepEqual(events.map((e) => e.subject).sort(), [...(r?.highFailures ?? [])].sort());
    assert.equal(
      events.find((e) => e.subject === 'accounts.default-passwords')?.severity,
      5,
      "the check's own severity",
    );
    await svc.runNow();
    assert.equal(events.length, r?.highFailures.length, 'still failing is not newly failing');
    assert.equal(reports.length, 2);
    assert.ok('report' in reports[0] && reports[0].report.kind === 'audit');
  });

  it('an audit-state.json of the wrong shape ({"failing": 5}) costs one comparison, not every audit after it', async () => {
    // Hostile review: new Set(5) threw in every run, and the state was only rewritten after a run.
    const state = join(t.dir, 'state-bad-shape');
    mkdirSync(state);
    writeFileSync(join(state, 'audit-state.json'), '{"failing":5}');
    const reports: StreamItem[] = [];
    const svc = new AuditService({
      schedule: '0 0 0 1 1 *',
      context: () => auditContext(careless, null),
      stateDir: state,
      raise: () => {},
      submit: async (items) => {
        reports.push(...items);
      },
      clock: new ManualClock(),
      log: silentLogger(),
    });
    assert.ok(await svc.runNow(), 'the audit ran');
    assert.equal(reports.length, 1, 'and its report was sent');
  });

  it('human output is a readable table with the failures, their evidence and fixes', () => {
    const r = cli([
      'audit',
      '--root',
      careless,
      '--no-probe',
      '--config',
      join(careless, 'etc/edge-agent/config.json'),
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^audit of .* score \d+\/100/m);
    assert.match(
      r.stdout,
      /FAIL accounts\.uid0: Only root has UID 0\n {2}\/etc\/passwd:4 {2}toor has UID 0\n {2}fix: /,
    );
    assert.match(r.stdout, /ETSI EN 303 645:/);
  });
});

describe('audit --root of an image', () => {
  const t = tempDir();
  const ca = createCa('fixture CA').certPem;
  after(() => t.cleanup());
  const audit = (root: string, ...extra: string[]) => {
    const r = cli(['audit', '--root', root, '--json', ...extra]);
    return { code: r.code, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
  };
  const check = (r: Report, id: string) => r.checks.find((c) => c.id === id)!;

  it('resolves absolute and escaping symlinks inside the image: the host file is never judged', () => {
    const img = join(t.dir, 'img');
    makeGateway(img, 'hardened', ca);
    // A careless shadow outside the image, and the image's links pointing at it both ways.
    const outside = join(t.dir, 'outside');
    makeGateway(outside, 'careless', ca);
    rmSync(join(img, 'etc/shadow'));
    symlinkSync(join(outside, 'etc/shadow'), join(img, 'etc/shadow'));
    renameSync(join(img, 'etc/ssh'), join(img, 'etc/ssh-real'));
    symlinkSync(`../../../../../../../..${join(outside, 'etc/ssh')}`, join(img, 'etc/ssh'));
    mkdirSync(join(img, 'etc/loop'));
    symlinkSync('b', join(img, 'etc/loop/a'));
    symlinkSync('a', join(img, 'etc/loop/b'));
    rmSync(join(img, 'etc/nftables.conf'));
    symlinkSync('loop/a', join(img, 'etc/nftables.conf'));
    const { report } = audit(img);
    const pw = check(report, 'accounts.default-passwords');
    assert.notEqual(pw.status, 'fail', `the outside shadow was judged: ${pw.detail}`);
    assert.doesNotMatch(JSON.stringify(pw.evidence), /raspberry|well-known default/);
    const root = check(report, 'ssh.root-login');
    assert.notEqual(root.status, 'fail', `the outside sshd_config was judged: ${root.detail}`);
    assert.ok(!JSON.stringify(report).includes(outside), 'nothing outside the image is named');
    assert.equal(
      check(report, 'net.firewall').status,
      'not-readable',
      'a symlink loop is no pass and no hang',
    );
    // A name from the image reaches the terminal escaped.
    const evil = join(img, 'etc/evil\x1b[2J\n[ok] fine');
    writeFileSync(evil, '');
    chmodSync(evil, 0o666);
    const human = cli(['audit', '--root', img]);
    assert.ok(!human.stdout.includes('\x1b'));
    assert.doesNotMatch(human.stdout, /^\[ok\] fine/m);
    assert.match(human.stdout, /\/etc\/evil\\x1b\[2J\\x0a\[ok\] fine {2}mode 0666/);
  });

  it("judges the image's own agent config, not --config, and probes nothing", () => {
    const img = join(t.dir, 'img2');
    makeGateway(img, 'hardened', ca);
    // The host config says plaintext on a port of this machine: it must play no part.
    const host = writeConfig(join(t.dir, 'host'), {
      mqtt: {
        url: 'mqtt://127.0.0.1:1',
        ca: 'ca.crt',
        cert: 'gw.crt',
        key: 'gw.key',
        insecurePlaintextForDevelopment: true,
      },
      audit: { enabled: true, probeBroker: true },
    });
    const { report } = audit(img, '--config', host);
    const tr = check(report, 'transport.mqtt');
    assert.equal(tr.status, 'pass', tr.detail);
    const files = tr.evidence.map((e) => e.file);
    assert.ok(files.includes('/etc/edge-agent/config.json'));
    assert.ok(
      files.every((f) => f.startsWith('/')),
      `no network endpoint in the evidence (no probe): ${files.join(', ')}`,
    );
    assert.match(JSON.stringify(tr.evidence), /mqtts:\/\/collector\.city\.example:8883/);
    assert.equal(check(report, 'perms.agent-keys').status, 'pass');
  });

  it('an image without the agent says so: its agent checks are not applicable', () => {
    const img = join(t.dir, 'img3');
    makeGateway(img, 'hardened', ca);
    rmSync(join(img, 'etc/edge-agent'), { recursive: true });
    const host = writeConfig(join(t.dir, 'host3'));
    const { report } = audit(img, '--config', host);
    for (const id of ['transport.mqtt', 'perms.agent-keys']) {
      const c = check(report, id);
      assert.equal(c.status, 'not-applicable', `${id}: ${c.status} ${c.detail}`);
      assert.match(c.detail, /the image has no edge-agent \(no \/etc\/edge-agent\/config\.json\)/);
    }
  });

  it('an image whose agent config is invalid fails the agent checks, naming the field', () => {
    const img = join(t.dir, 'img4');
    makeGateway(img, 'hardened', ca);
    writeFileSync(join(img, 'etc/edge-agent/config.json'), JSON.stringify({ device: { id: 'gw/+' } }));
    const { report, code } = audit(img);
    const c = check(report, 'transport.mqtt');
    assert.equal(c.status, 'fail');
    assert.match(c.detail, /invalid: .*device\.id: "gw\/\+" must match/);
    assert.equal(code, 1);
  });
});

describe('broker probe timeout', () => {
  it('a listener that never answers is no-mqtt only once the timeout passes on the injected clock', async () => {
    // Reads what it is sent (so the probe's close is seen) and never answers.
    const silent = createServer((s) => s.on('error', () => undefined).resume());
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    const clock = new ManualClock(Date.UTC(2026, 10, 26));
    let outcome: string | undefined;
    const probing = probePlaintext('127.0.0.1', port, 3000, clock).then((o) => {
      outcome = o;
    });
    await new Promise((r) => setTimeout(r, 50));
    clock.advance(2999);
    await new Promise((r) => setImmediate(r));
    assert.equal(outcome, undefined, 'still waiting for a CONNACK');
    clock.advance(1);
    await probing;
    assert.equal(outcome, 'no-mqtt');
    await new Promise((r) => silent.close(r));
  });
});
