import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../../agent/src/core/index.js';
import { SystemdNotifier } from '../../../agent/src/diag/index.js';
import { tempDir } from '../../helpers/paths.js';
import { waitFor } from '../../helpers/wait.js';

describe('systemd watchdog', () => {
  const t = tempDir('edge-systemd-');
  after(() => t.cleanup());

  it('pings WATCHDOG=1 on the injected clock only while the agent is healthy', async () => {
    const log = join(t.dir, 'notify.log');
    const cmd = join(t.dir, 'systemd-notify');
    writeFileSync(cmd, `#!/bin/sh\necho "$*" >> '${log}'\n`);
    chmodSync(cmd, 0o755);
    const clock = new ManualClock();
    const env = { NOTIFY_SOCKET: '/run/none', WATCHDOG_USEC: '10000000', PATH: process.env.PATH };
    const n = new SystemdNotifier(env, cmd, clock);
    let healthy = true;
    n.ready(() => healthy);
    const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
    await waitFor(() => lines().length === 1, 'READY=1');
    clock.advance(5_000);
    await waitFor(() => lines().length === 2, 'the first ping');
    healthy = false;
    clock.advance(5_000);
    clock.advance(5_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(lines().filter((l) => l.includes('WATCHDOG=1')).length, 1, 'no ping while unhealthy');
    healthy = true;
    clock.advance(5_000);
    await waitFor(() => lines().filter((l) => l.includes('WATCHDOG=1')).length === 2, 'a ping once healthy');
    n.stopping();
    await waitFor(() => lines().some((l) => l.includes('STOPPING=1')), 'STOPPING=1');
    assert.match(lines()[0], /--ready/);
  });
});
