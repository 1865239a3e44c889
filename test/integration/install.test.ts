import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
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
      assert.match(line('etc/edge-agent'), / 750 0:998 dir$/);
      assert.match(line('etc/edge-agent/config.json'), / 640 0:998 /);
      assert.match(line('var/lib/edge-agent'), / 700 998:998 dir$/);
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
});
