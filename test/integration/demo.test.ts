import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { repoRoot, tempDir } from '../helpers/paths.js';

it('npm start: the demo seals, buffers through an outage, delivers and verifies everything, then ends by itself without a terminal', () => {
  const t = tempDir();
  try {
    const r = spawnSync(
      process.execPath,
      [join(repoRoot, 'dist/scripts/demo/main.js'), '--dir', t.dir, '--outage-at', '3', '--outage-for', '3'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const head = r.stdout.split('\n').slice(0, 3).join('\n');
    assert.match(
      head,
      /stop: Ctrl-C, or it ends by itself once the outage is over and the backlog has drained/,
    );
    assert.match(r.stdout, /simulated outage/);
    assert.match(r.stdout, /link (waiting|connecting) \(TCP_REFUSED\)/, 'the outage shows in the live line');
    assert.match(r.stdout, /backlog drained/);
    assert.match(
      r.stdout,
      /security events: (\d+) sealed, \1 verified at the collector/,
      'the door alert, agent.started and any others all arrive',
    );
    const m = /summary: sealed (\d+) readings; the collector verified and stored (\d+) readings/.exec(
      r.stdout,
    );
    assert.ok(m && Number(m[1]) > 100 && m[1] === m[2], r.stdout);
    assert.match(r.stdout, /demo: OK/);
  } finally {
    t.cleanup();
  }
});
