import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ManualClock,
  type SecurityEvent,
  Stream,
  type StreamItem,
  silentLogger,
} from '../../../agent/src/core/index.js';
import { loadSigningKey } from '../../../agent/src/identity/index.js';
import {
  BaselineError,
  IntegrityService,
  PathOutsideRootError,
  scan,
  underRoot,
} from '../../../agent/src/integrity/index.js';
import { createCa } from '../../../scripts/pki/lib.js';
import { cli, writeConfig } from '../../helpers/agent.js';
import { makeGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/paths.js';

describe('integrity', () => {
  const t = tempDir();
  const root = join(t.dir, 'gw');
  const outside = join(t.dir, 'outside');
  let config = '';
  const paths = ['/etc/passwd', '/etc/shadow', '/etc/ssh', '/etc/links', '/boot/firmware', '/etc/absent'];
  before(() => {
    makeGateway(root, 'hardened', createCa('x').certPem);
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret'), 'must never be read');
    mkdirSync(join(root, 'etc/links'));
    symlinkSync('/', join(root, 'etc/links/to-root'));
    symlinkSync(outside, join(root, 'etc/links/to-outside'));
    symlinkSync('../../../../..', join(root, 'etc/links/dotdot'));
    config = writeConfig(join(t.dir, 'agent'), { monitor: { root }, integrity: { paths } });
    assert.equal(cli(['identity', 'init'], { config }).code, 0);
  });
  after(() => t.cleanup());

  it('keeps every path under the root: .. and relative paths never escape', () => {
    assert.equal(underRoot('/r', '/etc/../../../outside').host, '/r/outside');
    assert.throws(() => underRoot('/r', '../etc'), PathOutsideRootError);
    assert.throws(() => underRoot('/r', 'etc/passwd'), PathOutsideRootError);
    assert.throws(() => underRoot('/r', '/etc/\0passwd'), PathOutsideRootError);
  });

  it('records symlinks without following them, in the tree or on the way to a path', async () => {
    const other = join(t.dir, 'gw2');
    mkdirSync(join(other, 'etc'), { recursive: true });
    symlinkSync(outside, join(other, 'etc/ssh'));
    const s = await scan(other, ['/etc/ssh/sshd_config']);
    assert.deepEqual(
      s.entries.map((e) => [e.path, e.type, e.target]),
      [['/etc/ssh', 'symlink', outside]],
    );
    const full = await scan(root, ['/etc/links']);
    assert.deepEqual(
      full.entries.map((e) => `${e.path} ${e.type} ${e.target ?? ''}`.trim()),
      [
        '/etc/links dir',
        '/etc/links/dotdot symlink ../../../../..',
        `/etc/links/to-outside symlink ${outside}`,
        '/etc/links/to-root symlink /',
      ],
    );
    assert.ok(!JSON.stringify(full).includes('must never be read'));
  });

  it('baseline, then each change kind is found and raised as its event; the report names the baseline', async () => {
    const b = cli(['integrity', 'baseline', '--json'], { config });
    assert.equal(b.code, 0, b.stderr);
    const made = JSON.parse(b.stdout);
    assert.deepEqual(made.missing, ['/etc/absent']);
    assert.equal(cli(['integrity', 'verify'], { config }).code, 0, 'nothing changed yet');

    writeFileSync(
      join(root, 'etc/passwd'),
      `${readFileSync(join(root, 'etc/passwd'), 'utf8')}mallory:x:0:0::/root:/bin/sh\n`,
    );
    writeFileSync(join(root, 'etc/ssh/sshd_config.d/99-backdoor.conf'), 'PermitRootLogin yes\n');
    rmSync(join(root, 'boot/firmware/config.txt'));
    chmodSync(join(root, 'etc/shadow'), 0o644);

    const v = cli(['integrity', 'verify', '--json'], { config });
    assert.equal(v.code, 1);
    const report = JSON.parse(v.stdout);
    assert.equal(report.baselineDigest, made.digest);
    assert.deepEqual(
      report.changes.map((c: { kind: string; path: string }) => `${c.kind} ${c.path}`),
      [
        'removed /boot/firmware/config.txt',
        'modified /etc/passwd',
        'perms_changed /etc/shadow',
        'added /etc/ssh/sshd_config.d/99-backdoor.conf',
      ],
    );

    const events: SecurityEvent[] = [];
    const reports: StreamItem[] = [];
    const id = loadSigningKey(join(t.dir, 'agent/data/identity/signing.key'));
    const svc = new IntegrityService({
      schedule: '0 0 0 1 1 *',
      baselineFile: join(t.dir, 'agent/data/integrity-baseline.json'),
      root,
      publicKey: () => id.publicKey,
      raise: (type, subject, details) => events.push({ type, subject, details, severity: 4, tsMs: 0 }),
      submit: async (items) => {
        reports.push(...items);
      },
      clock: new ManualClock(),
      log: silentLogger(),
    });
    await svc.verifyNow();
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.subject}`),
      [
        'integrity.removed /boot/firmware/config.txt',
        'integrity.modified /etc/passwd',
        'integrity.perms_changed /etc/shadow',
        'integrity.added /etc/ssh/sshd_config.d/99-backdoor.conf',
      ],
    );
    assert.match(events[2].details.detail, /mode: 0640 → 0644/);
    assert.equal(reports[0].stream, Stream.REPORTS);
    assert.ok('report' in reports[0] && reports[0].report.kind === 'integrity');
  });

  it('refuses a baseline that was altered after signing', () => {
    const f = join(t.dir, 'agent/data/integrity-baseline.json');
    const doc = JSON.parse(readFileSync(f, 'utf8'));
    const content = JSON.parse(Buffer.from(doc.signed, 'base64').toString());
    content.entries = content.entries.filter((e: { path: string }) => e.path !== '/etc/passwd');
    doc.signed = Buffer.from(JSON.stringify(content)).toString('base64');
    writeFileSync(f, JSON.stringify(doc));
    const v = cli(['integrity', 'verify'], { config });
    assert.equal(v.code, 2);
    assert.match(v.stderr, /signature does not verify.*\[BASELINE_SIGNATURE\]/);
    assert.ok(BaselineError);
  });
});

describe('integrity output with hostile file names', () => {
  const t = tempDir();
  after(() => t.cleanup());

  it('escapes names in human output (ANSI escapes, newlines, bidi overrides) and keeps them exact in JSON', () => {
    const root = join(t.dir, 'gw');
    mkdirSync(join(root, 'etc/app'), { recursive: true });
    writeFileSync(join(root, 'etc/app/ok.conf'), 'a\n');
    const config = writeConfig(join(t.dir, 'agent'), {
      monitor: { root },
      integrity: { paths: ['/etc/app'] },
    });
    assert.equal(cli(['identity', 'init'], { config }).code, 0);
    assert.equal(cli(['integrity', 'baseline'], { config }).code, 0);
    const names = ['red\x1b[31mALERT\x1b[0m', 'x\n[ok] fake', 'cr\rover', 'bidi\u202Efdp.exe'];
    for (const n of names) writeFileSync(join(root, 'etc/app', n), 'planted');
    const human = cli(['integrity', 'verify'], { config });
    assert.equal(human.code, 1);
    assert.ok(!human.stdout.includes('\x1b'), 'no escape sequence reaches the terminal');
    assert.doesNotMatch(human.stdout, /\r/);
    assert.doesNotMatch(human.stdout, /\u202e/);
    assert.doesNotMatch(human.stdout, /^\[ok\] fake/m, 'no injected line');
    assert.match(human.stdout, /\/etc\/app\/red\\x1b\[31mALERT\\x1b\[0m/);
    assert.match(human.stdout, /\/etc\/app\/x\\x0a\[ok\] fake/);
    assert.match(human.stdout, /\/etc\/app\/bidi\\u\{202e\}fdp\.exe/);
    assert.equal(human.stdout.trimEnd().split('\n').length, 2 + names.length, 'one line per change');
    const json = JSON.parse(cli(['integrity', 'verify', '--json'], { config }).stdout) as {
      changes: { path: string }[];
    };
    assert.deepEqual(json.changes.map((c) => c.path).sort(), names.map((n) => `/etc/app/${n}`).sort());
  });
});
