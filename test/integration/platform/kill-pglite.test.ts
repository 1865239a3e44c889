// Done means (#15), on PGlite: one collector SIGKILLed and restarted under two real agents; at
// the end every sealed batch is stored exactly once, every chain contiguous, every outbox empty.
// The same on PostgreSQL with three collectors is kill.test.ts.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Store } from '../../../platform/src/store/index.js';
import { assertComplete, City, stop } from '../../helpers/city.js';
import { pgliteStore } from '../../helpers/platform.js';
import { waitFor } from '../../helpers/wait.js';
import { range } from '../../helpers/world.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('collectors die, nothing is lost', () => {
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
