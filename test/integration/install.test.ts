import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, tempDir } from '../helpers/paths.js';

/** Every path of a tree with its type, mode, owner and content hash: what "the same tree" means. */
function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const s = lstatSync(p);
      const rel = relative(root, p);
      const what = s.isSymbolicLink()
        ? `-> ${readlinkSync(p)}`
        : s.isFile()
          ? createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)
          : 'dir';
      out.push(`${rel} ${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} ${what}`);
      if (s.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

describe('installation', () => {
  it('install.sh run twice into a scratch root gives the same tree, with the right owners and modes', () => {
    const t = tempDir();
    try {
      const root = join(t.dir, 'root');
      // An image whose system accounts already hold 998 and 999: the agent's must not reuse them.
      mkdirSync(join(root, 'etc'), { recursive: true });
      writeFileSync(
        join(root, 'etc/passwd'),
        'root:x:0:0::/root:/bin/sh\nsystemd-timesync:x:998:998::/:/usr/sbin/nologin\n',
      );
      writeFileSync(join(root, 'etc/group'), 'root:x:0:\nsystemd-timesync:x:998:\ninput:x:999:\n');
      const run = () =>
        spawnSync('bash', [join(repoRoot, 'scripts/install.sh'), '--root', root], { encoding: 'utf8' });
      const first = run();
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stdout, /Next steps:/);
      const a = snapshot(root);
      const second = run();
      assert.equal(second.status, 0, second.stderr);
      assert.deepEqual(snapshot(root), a);
      const line = (p: string) => a.find((l) => l.startsWith(`${p} `)) ?? '';
      const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
      assert.match(passwd, /^edge-agent:x:997:997:/m, 'the highest id that no account or group holds');
      assert.equal(passwd.match(/:998:/g)?.length, 1, 'no second account with 998');
      assert.match(line('etc/edge-agent'), / 750 0:997 dir$/);
      assert.match(line('etc/edge-agent/config.json'), / 640 0:997 /);
      assert.match(line('var/lib/edge-agent'), / 700 997:997 dir$/);
      assert.match(line('usr/local/bin/edge-agent'), /-> \/usr\/lib\/edge-agent\/bin\/edge-agent\.js$/);
      assert.ok(
        !a.some((l) => l.startsWith('usr/lib/edge-agent/node_modules/typescript ')),
        'no build tools installed',
      );
      const help = spawnSync(
        process.execPath,
        [join(root, 'usr/lib/edge-agent/bin/edge-agent.js'), '--help'],
        { encoding: 'utf8' },
      );
      assert.equal(help.status, 0, help.stderr);
      // The template is refused by name until the technician fills it in.
      const check = spawnSync(
        process.execPath,
        [
          join(root, 'usr/lib/edge-agent/bin/edge-agent.js'),
          'config',
          'check',
          '--config',
          join(root, 'etc/edge-agent/config.json'),
        ],
        { encoding: 'utf8' },
      );
      assert.equal(check.status, 2, check.stdout);
      assert.match(check.stderr, /device\.id: CHANGE-ME is the installer's placeholder/);
      assert.match(check.stderr, /mqtt\.url: CHANGE-ME is the installer's placeholder/);
      const usage = spawnSync('bash', [join(repoRoot, 'scripts/install.sh'), '--help'], { encoding: 'utf8' });
      assert.equal(usage.status, 0);
      assert.match(usage.stdout, /scripts\/install\.sh --root DIR/);
      assert.doesNotMatch(usage.stdout, /set -e|#/);
    } finally {
      t.cleanup();
    }
  });

  it('the systemd unit passes systemd-analyze verify with no warning, sandboxed as DESIGN.md says', () => {
    const unit = join(repoRoot, 'scripts/systemd/edge-agent.service');
    const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'systemd-analyze printed a warning');
    const text = readFileSync(unit, 'utf8');
    for (const l of [
      'Type=notify',
      'NotifyAccess=all',
      'WatchdogSec=',
      'Restart=on-failure',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/edge-agent',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'AmbientCapabilities=CAP_DAC_READ_SEARCH',
      'CapabilityBoundingSet=CAP_DAC_READ_SEARCH',
    ]) {
      assert.ok(text.includes(l), l);
    }
  });

  it('the systemd unit runs node with the environment and flags of bin/edge-agent.js (memory bounds)', () => {
    const unit = readFileSync(join(repoRoot, 'scripts/systemd/edge-agent.service'), 'utf8');
    const shebang = readFileSync(join(repoRoot, 'bin/edge-agent.js'), 'utf8').split('\n', 1)[0].split(/\s+/);
    const node = shebang.indexOf('node');
    assert.ok(node > 0, 'the shebang runs node through env');
    const exec = unit.split('\n').find((l) => l.startsWith('ExecStart='));
    for (const v of shebang.slice(0, node).filter((w) => w.includes('=')))
      assert.ok(unit.includes(`Environment=${v}\n`), `Environment=${v}`);
    for (const f of shebang.slice(node + 1)) assert.ok(exec?.includes(` ${f} `), `ExecStart passes ${f}`);
  });
});
