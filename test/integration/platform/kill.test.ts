// Done means (#15): three collectors on PostgreSQL and five real agents through Mosquitto,
// one collector SIGKILLed and restarted every few seconds, another stopped for good midway;
// at the end every sealed batch is stored exactly once, every chain contiguous, no conflict,
// every outbox empty. The same with one collector on PGlite is kill-pglite.test.ts, a file of
// its own so that the two run side by side (scripts/run-tests.mjs).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { describe, it } from 'node:test';
import { Store } from '../../../platform/src/store/index.js';
import { tempDatabase } from '../../../scripts/lib/pg-temp.js';
import { assertComplete, City, stop } from '../../helpers/city.js';
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
});
