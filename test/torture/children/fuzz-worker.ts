// A worker thread of the S1 row: runs its share of the fuzz targets, cheapest first, each given
// an even part of the time left, so what a fast target leaves over goes to the slower ones.
import { parentPort, workerData } from 'node:worker_threads';
import { type FuzzOutcome, fuzz, targets } from '../fuzz-targets.js';

export interface FuzzJob {
  dir: string;
  seed: number;
  /** Target names, in the order to run them. */
  names: string[];
  runs: number;
  /** Wall-clock deadline of the whole job (ms since the epoch). */
  endMs: number;
}

const job = workerData as FuzzJob;
const all = targets(job.dir);
const out: FuzzOutcome[] = [];
for (const [i, name] of job.names.entries()) {
  const t = all.find((x) => x.name === name);
  if (!t) throw new Error(`no fuzz target ${name}`);
  const share = (job.endMs - Date.now()) / (job.names.length - i);
  out.push(fuzz(t, job.runs, job.seed + i, Date.now() + share));
}
parentPort?.postMessage(out);
