import { join } from 'node:path';
import { waitFor } from '../../helpers/wait.js';
import { World } from '../../helpers/world.js';
import { drainAndJudge, IngestStream, kill9, START_BOUND_MS, spawnDaemon } from '../agentproc.js';
import { addDefect, type Ctx, emptyResult, inLanes, type Row, type RowResult, sleep } from '../lib.js';
import { compileShim, powerCut, shimEnv } from '../powercut.js';

const FULL_CYCLES = 200;
const QUICK_CYCLES = 4;
/** Worlds cut side by side in the full run (see `inLanes`). */
const FULL_LANES = 2;
/** The full run stops cutting here and says how far it got. */
const FULL_BOUND_MS = 7 * 60_000;
const DRAIN_BOUND_MS = 300_000;

/**
 * R2: power cuts. The daemon runs under an LD_PRELOAD shim that keeps an undo
 * record of every write under its data folder until that file is fsynced
 * (test/torture/powercut/shim.c says why this is what a disk losing its
 * volatile cache leaves); it is SIGKILLed while it ingests and drains, then
 * every unsynced write is undone. Every reading it answered as accepted must
 * survive, and the collector must store each exactly once.
 */
export const r2: Row = {
  id: 'R2',
  what: 'power cut: the agent killed with every write that was not fsynced discarded',
  async run(ctx) {
    const so = compileShim(ctx.dir);
    return ctx.quick
      ? lane(ctx, so, QUICK_CYCLES)
      : inLanes(ctx, FULL_LANES, FULL_CYCLES, (c, n) => lane(c, so, n));
  },
};

/** One World whose daemon is cut `cycles` times, then drained and judged. */
async function lane(ctx: Ctx, so: string, cycles: number): Promise<RowResult> {
  const r = emptyResult('cycles');
  const w = new World({ deviceId: 'gw-r2' });
  try {
    await w.setup();
    await w.broker.start();
    await w.startCollector();
    const data = join(w.agentDir, 'data');
    const log = join(w.t.dir, 'undo.log');
    const accepted: number[] = [];
    let next = 0;
    let undone = 0;
    let seen = 0;
    let syncs = 0;
    const end = Date.now() + FULL_BOUND_MS;
    for (let c = 0; c < cycles && (ctx.quick || Date.now() < end); c++) {
      let d: Awaited<ReturnType<typeof spawnDaemon>>;
      try {
        d = await spawnDaemon(w, shimEnv(so, data, log));
      } catch (e) {
        r.crashes++;
        addDefect(r, `cycle ${c}: the daemon did not start after the last cut: ${(e as Error).message}`);
        break;
      }
      const s = new IngestStream(join(data, 'agent.sock'), next);
      s.start();
      await waitFor(() => s.accepted.length > 0, 'a first accepted reading', START_BOUND_MS, 20).catch(
        () => undefined,
      );
      await sleep(ctx.rng.int(1000));
      const k = await kill9(d);
      await s.stopped();
      next = s.next;
      accepted.push(...s.accepted);
      const cut = powerCut(data, log);
      undone += cut.writes;
      seen += cut.seen;
      syncs += cut.syncs;
      r.cases++;
      if (!k.wasRunning) {
        r.crashes++;
        addDefect(r, `cycle ${c}: the daemon exited by itself (code ${k.code}) before the cut`);
      }
    }
    const stored = await drainAndJudge(w, r, ctx, accepted, 'cut', DRAIN_BOUND_MS);
    if (seen === 0 || syncs === 0)
      addDefect(r, 'the shim saw no write or no fsync under the data folder: the cuts proved nothing');
    r.notes = `${accepted.length.toLocaleString('en-US')} accepted readings, ${stored.toLocaleString('en-US')} stored; ${seen.toLocaleString('en-US')} writes and ${syncs.toLocaleString('en-US')} fsyncs seen by the shim, ${undone.toLocaleString('en-US')} unsynced writes discarded over ${r.cases} cuts${!ctx.quick && r.cases < cycles ? ` (stopped at the ${FULL_BOUND_MS / 60_000} min bound)` : ''}`;
  } finally {
    await w.close();
  }
  return r;
}
