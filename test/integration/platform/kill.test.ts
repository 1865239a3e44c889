// Done means (#15): three collectors on PostgreSQL and five real agents through Mosquitto,
// one collector SIGKILLed and restarted every few seconds, another stopped for good midway;
// at the end every sealed batch is stored exactly once, every chain contiguous, no conflict,
// every outbox empty. Then the same with one collector on PGlite.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Store } from '../../../platform/src/store/index.js';
import { tempDatabase } from '../../../scripts/lib/pg-temp.js';
import { assertComplete, City, stop } from '../../helpers/city.js';
import { pgliteStore } from '../../helpers/platform.js';
import { waitFor } from '../../helpers/wait.js';
import { range } from '../../helpers/world.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('collectors die, nothing is lost', () => {
  it('3 collectors on PostgreSQL, 5 agents: one SIGKILLed again and again, one stopped for good', async () => {
    const city = new City();
    const db = await tempDatabase('edge_kill');
    const collectors: ChildProcess[] = [];
    try {
      await city.setup(5);
      // Started together: the migration lock lets one migrate while the others wait.
      collectors.push(
        ...(await Promise.all(['c-kill', 'c-stop', 'c-stay'].map((n) => city.collector(n, db.url)))),
      );
      await city.startAgents();
      const rounds = 4;
      const per = 300;
      let kills = 0;
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < 5; i++) city.ingest(i, range(r * per, (r + 1) * per));
        await sleep(800 + Math.floor(Math.random() * 1200));
        await stop(collectors[0], 'SIGKILL');
        kills++;
        collectors[0] = await city.collector('c-kill', db.url);
        if (r === 1) await stop(collectors[1], 'SIGTERM');
      }
      await waitFor(
        () => [0, 1, 2, 3, 4].every((i) => city.buffered(i) === 0),
        'every outbox to empty',
        120_000,
        500,
      );
      const store = new Store({ url: db.url, migrate: false });
      await store.start();
      try {
        await assertComplete(city, store, rounds * per);
      } finally {
        await store.stop();
      }
      assert.equal(kills, rounds);
    } finally {
      for (const c of collectors) if (c.exitCode === null && c.signalCode === null) await stop(c, 'SIGTERM');
      await city.close();
      await db.drop();
    }
  });

  it('one collector on PGlite, SIGKILLed and restarted: the same', async () => {
    const city = new City();
    let collector: ChildProcess | undefined;
    try {
      const store = await pgliteStore(join(city.t.dir, 'platform'));
      await city.setup(2);
      collector = await city.collector('c-lite', store);
      await city.startAgents();
      for (let r = 0; r < 2; r++) {
        for (let i = 0; i < 2; i++) city.ingest(i, range(r * 400, (r + 1) * 400));
        await sleep(1000);
        await stop(collector, r === 1 ? 'SIGTERM' : 'SIGKILL');
        collector = await city.collector('c-lite', store);
      }
      await waitFor(() => [0, 1].every((i) => city.buffered(i) === 0), 'every outbox to empty', 120_000, 500);
      await stop(collector, 'SIGTERM');
      const s = new Store({ url: store, migrate: false });
      await s.start();
      try {
        await assertComplete(city, s, 800);
      } finally {
        await s.stop();
      }
    } finally {
      if (collector && collector.exitCode === null && collector.signalCode === null)
        await stop(collector, 'SIGTERM');
      await city.close();
    }
  });
});
