import assert from 'node:assert/strict';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentStatus } from '../../agent/src/daemon/index.js';
import { makeCabinet } from '../helpers/cabinet.js';
import { waitFor } from '../helpers/wait.js';
import { World } from '../helpers/world.js';

/** Writes `file` until the filesystem refuses (ENOSPC), as another process filling the card would. */
function fillUp(file: string): number {
  const fd = openSync(file, 'w');
  let bytes = 0;
  try {
    for (const size of [1 << 16, 1 << 12, 1]) {
      const chunk = Buffer.alloc(size, 0x61);
      for (;;) {
        try {
          bytes += writeSync(fd, chunk);
        } catch (e) {
          if ((e as { code?: string }).code !== 'ENOSPC') throw e;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/**
 * Disk full during a cron tick, through the real daemon: its data folder is a
 * small tmpfs in a private user and mount namespace (as torture R6), filled by
 * another writer through /proc/PID/root. The sensors' scheduled report is
 * refused with BUFFER_DISK_FULL; the daemon stays up, status names the
 * capability, and once space is back the event reaches the collector and
 * readings flow again.
 */
describe('disk full during a cron tick', () => {
  const w = new World({ deviceId: 'gw-disk' });
  const cabinet = join(w.t.dir, 'cabinet');
  const data = join(w.agentDir, 'data');
  const stage = join(w.t.dir, 'data-stage');
  const events = () => w.collectorEvents();
  const sensors = () =>
    ((w.status() as unknown as AgentStatus).capabilities ?? []).find((c) => c.name === 'sensors');
  const readingsArrive = (values: number[]) => w.readingsArrive(values);

  before(async () => {
    makeCabinet(cabinet);
    await w.setup();
    mkdirSync(join(w.t.dir, 'run'));
    w.writeAgentConfig({
      // No free-space threshold: the disk fills from outside, the outbox evicts nothing for it.
      storage: { dir: data, minFreeBytes: 0 },
      // The sockets outside the data folder, which only the daemon's namespace sees.
      sockets: { agent: join(w.t.dir, 'run', 'agent.sock'), admin: join(w.t.dir, 'run', 'admin.sock') },
      monitor: { root: cabinet, auth: { source: 'off' }, listeners: { enabled: false } },
      sensors: { enabled: true, schedule: '* * * * * *' },
    });
    cpSync(data, stage, { recursive: true });
    await w.broker.start();
    await w.startCollector();
  });
  after(() => w.close());

  it('the scheduled report is refused with BUFFER_DISK_FULL: the daemon stays up, status names sensors, the event and readings arrive once space is back', async () => {
    const script = 'mount -t tmpfs -o size=16m tmpfs "$1" && cp -a "$2/." "$1/" && shift 2 && exec "$@"';
    const d = await w.startAgent({}, ['unshare', '-Urm', 'sh', '-c', script, 'sh', data, stage]);
    const inside = (p: string) => `/proc/${d.pid}/root${p}`;
    assert.ok(existsSync(inside(join(data, 'outbox.db'))), 'the outbox is on the tmpfs');
    assert.ok(!existsSync(join(data, 'outbox.db')), 'and only there');
    await readingsArrive([1, 2, 3]);
    await waitFor(
      async () => (await w.collectorBatches([3])).some((b) => b.report?.kind === 'inventory'),
      'an inventory report before the disk fills',
    );

    const filler = inside(join(data, 'filler'));
    assert.ok(fillUp(filler) > 0);
    const t0 = Date.now();
    const failed = await waitFor(
      () => {
        const s = sensors();
        return s?.state === 'failed' && s.error?.code === 'BUFFER_DISK_FULL' && s;
      },
      'a sensors tick refused for the full disk',
      120_000,
      250,
    );
    console.log(`# the first tick refused ${Date.now() - t0} ms after the disk filled`);
    assert.match(failed.error?.message ?? '', /full/);
    assert.equal(d.exitCode, null, 'the daemon is up');
    assert.equal(w.status().running, true);

    unlinkSync(filler);
    await waitFor(() => sensors()?.state === 'running', 'sensors work again once space is back', 30_000, 250);
    const ev = await waitFor(
      async () =>
        (await events()).find(
          (e) => e.type === 'agent.capability_failed' && e.details.code === 'BUFFER_DISK_FULL',
        ),
      'the failure, held while the disk was full, at the collector',
    );
    assert.deepEqual(ev.details, { capability: 'sensors', code: 'BUFFER_DISK_FULL' });
    await readingsArrive([4, 5, 6]);
    assert.equal(d.exitCode, null, 'the daemon is still up');
  });
});
