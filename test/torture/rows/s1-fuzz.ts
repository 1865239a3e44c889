import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { distTest } from '../../helpers/paths.js';
import type { FuzzJob } from '../children/fuzz-worker.js';
import type { FuzzOutcome } from '../fuzz-targets.js';
import { addDefect, emptyResult, type Row } from '../lib.js';

/** Executions per target: the 10^6 in the full run, a smoke amount in --quick. */
const FULL_RUNS = 1_000_000;
const QUICK_RUNS = 2_000;
/** The full run's bound for all targets: a target that cannot reach its count stops and says so. */
const FULL_BOUND_MS = 7 * 60_000;
const QUICK_BOUND_MS = 60_000;
/**
 * The full run's targets in two worker threads (one per core), balanced by what an
 * execution costs here: the profile bundles (sign + verify each) against the rest.
 */
const FULL_SPLIT = [
  ['ingest lines', 'firmware profile bundles'],
  ['envelope decode + verify', 'config files', 'signed documents'],
];
const ALL = FULL_SPLIT.flat();

function runWorker(job: FuzzJob): Promise<FuzzOutcome[]> {
  return new Promise((resolve, reject) => {
    const w = new Worker(join(distTest, 'torture/children/fuzz-worker.js'), { workerData: job });
    let got: FuzzOutcome[] | undefined;
    w.once('message', (m: FuzzOutcome[]) => {
      got = m;
    });
    w.once('error', reject);
    w.once('exit', (code) =>
      got ? resolve(got) : reject(new Error(`fuzz worker exited with ${code} before its report`)),
    );
  });
}

/** S1: fast-check property runs (Jazzer.js is not installed: no coverage guidance, so byte mutations of valid inputs stand in). */
export const s1: Row = {
  id: 'S1',
  what: 'fuzzing (fast-check) of envelopes, signed documents, ingest lines, config files, profile bundles',
  async run(ctx) {
    const r = emptyResult('execs');
    const endMs = Date.now() + (ctx.quick ? QUICK_BOUND_MS : FULL_BOUND_MS);
    const split = ctx.quick ? [ALL] : FULL_SPLIT;
    const outcomes = (
      await Promise.all(
        split.map((names, i) => {
          const dir = join(ctx.dir, `w${i}`);
          mkdirSync(dir);
          const runs = ctx.quick ? QUICK_RUNS : FULL_RUNS;
          return runWorker({ dir, seed: ctx.seed + 100 * i, names, runs, endMs });
        }),
      )
    ).flat();
    const counts: string[] = [];
    for (const o of outcomes.sort((a, b) => ALL.indexOf(a.name) - ALL.indexOf(b.name))) {
      r.cases += o.done;
      if (o.defect) {
        r.crashes++;
        addDefect(r, o.defect);
      }
      counts.push(`${o.name} ${o.done.toLocaleString('en-US')}`);
      ctx.log(`${o.name}: ${o.done.toLocaleString('en-US')} executions in ${(o.ms / 1000).toFixed(1)} s`);
    }
    r.notes = `executions per target: ${counts.join('; ')}`;
    return r;
  },
};
