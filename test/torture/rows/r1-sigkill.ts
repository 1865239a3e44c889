import { join } from 'node:path';
import { waitFor } from '../../helpers/wait.js';
import { World } from '../../helpers/world.js';
import { drainAndJudge, IngestStream, kill9, START_BOUND_MS, spawnDaemon } from '../agentproc.js';
import { addDefect, type Ctx, emptyResult, inLanes, type Row, type RowResult, sleep } from '../lib.js';

const FULL_CYCLES = 200;
const QUICK_CYCLES = 8;
/** Worlds killed side by side in the full run (see `inLanes`). */
const FULL_LANES = 2;
/** The full run stops cycling here (a loaded machine starts a daemon in seconds) and says how far it got. */
const FULL_BOUND_MS = 8 * 60_000;
/** The drain after the last kill may take this long before it counts as a hang. */
const DRAIN_BOUND_MS = 300_000;

/**
 * R1: the agent is SIGKILLed at a random moment while it ingests from a client
 * and drains to the collector, cycle after cycle; then it drains to the end.
 * Every reading the agent answered as accepted must be stored exactly once.
 */
export const r1: Row = {
  id: 'R1',
  what: 'SIGKILL of the agent at random points during ingest and drain',
  run: (ctx) =>
    ctx.quick ? lane(ctx, QUICK_CYCLES) : inLanes(ctx, FULL_LANES, FULL_CYCLES, (c, n) => lane(c, n)),
};

/** One World (broker, collector, agent) killed `cycles` times, then drained and judged. */
async function lane(ctx: Ctx, cycles: number): Promise<RowResult> {
  const r = emptyResult('cycles');
  const w = new World({ deviceId: 'gw-r1' });
  try {
    await w.setup();
    await w.broker.start();
    await w.startCollector();
    const accepted: number[] = [];
    let next = 0;
    const end = Date.now() + FULL_BOUND_MS;
    for (let c = 0; c < cycles && (ctx.quick || Date.now() < end); c++) {
      const d = await spawnDaemon(w);
      // A quarter of the cycles kill it right after start-up, half once it has accepted a first
      // reading (answers can take seconds on a loaded machine), a fifth while it only drains.
      const u = ctx.rng.next();
      const kind = u < 0.25 ? 'startup' : u < 0.8 ? 'ingest' : 'drain';
      const s = new IngestStream(join(w.agentDir, 'data', 'agent.sock'), next);
      if (kind !== 'drain') s.start();
      if (kind === 'ingest')
        await waitFor(() => s.accepted.length > 0, 'a first accepted reading', START_BOUND_MS, 20).catch(
          () => undefined,
        );
      // Short waits: a cycle is mostly the daemon's start, and more cycles find more kill points.
      await sleep(kind === 'ingest' ? ctx.rng.int(800) : 50 + ctx.rng.int(800));
      const k = await kill9(d);
      await s.stopped();
      next = s.next;
      accepted.push(...s.accepted);
      r.cases++;
      if (!k.wasRunning) {
        r.crashes++;
        addDefect(r, `cycle ${c}: the daemon exited by itself (code ${k.code}) before the kill`);
      }
    }
    const stored = await drainAndJudge(w, r, ctx, accepted, 'kill', DRAIN_BOUND_MS);
    r.notes = `${accepted.length.toLocaleString('en-US')} accepted readings, ${stored.toLocaleString('en-US')} stored; conflicts at the collector ${w.collector?.stats.conflicts ?? 0}${!ctx.quick && r.cases < cycles ? ` (stopped at the ${FULL_BOUND_MS / 60_000} min bound)` : ''}`;
  } finally {
    await w.close();
  }
  return r;
}
