import { waitFor } from '../../helpers/wait.js';
import { exactlyOnce, range, World } from '../../helpers/world.js';
import { outboxRows } from '../agentproc.js';
import { addDefect, emptyResult, type Row, sleep } from '../lib.js';

const FULL_KILLS = 100;
const QUICK_KILLS = 4;
const READINGS = 20_000;
const DRAIN_BOUND_MS = 300_000;

/** R4: the broker is SIGKILLed (losing what it held) again and again while the agent drains a backlog. */
export const r4: Row = {
  id: 'R4',
  what: 'broker SIGKILL during the drain',
  async run(ctx) {
    const r = emptyResult('kills');
    const w = new World({ deviceId: 'gw-r4' });
    try {
      await w.setup();
      await w.startAgent();
      const n = ctx.quick ? READINGS / 4 : READINGS;
      for (let from = 0; from < n; from += 5000) {
        const ing = w.ingest(range(from, Math.min(n, from + 5000)));
        if (ing.code !== 0) throw new Error(`ingest failed: ${ing.stderr}`);
      }
      await w.broker.start();
      await w.startCollector();
      const kills = ctx.quick ? QUICK_KILLS : FULL_KILLS;
      for (let k = 0; k < kills; k++) {
        await sleep(100 + ctx.rng.int(900));
        await w.broker.kill();
        r.cases++;
        await sleep(ctx.rng.int(500));
        await w.broker.start();
      }
      try {
        await waitFor(
          async () => (await outboxRows(w)) === 0,
          'the backlog to drain after the last broker kill',
          DRAIN_BOUND_MS,
          500,
        );
      } catch (e) {
        r.crashes++;
        addDefect(r, `hang: ${(e as Error).message}`);
      }
      if (w.daemon?.exitCode !== null) {
        r.crashes++;
        addDefect(r, `the agent exited (code ${w.daemon?.exitCode})`);
      }
      const values = (await w.stored()).values;
      const counts = new Map<number, number>();
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
      for (let i = 0; i < n; i++) if (!counts.has(i)) r.lost++;
      for (const c of counts.values()) if (c > 1) r.duplicates += c - 1;
      const problem = exactlyOnce(values, n);
      if (problem) addDefect(r, `${problem} (seed ${ctx.seed})`);
      r.notes = `${n.toLocaleString('en-US')} readings drained through ${r.cases} broker kills; collector batches ${w.collector?.stats.batches}, resends stored once ${w.collector?.stats.duplicates}`;
    } finally {
      await w.close();
    }
    return r;
  },
};
