// Loaded into the daemon with `node --import` by the bench: its main thread's
// event-loop delay, written to $EDGE_BENCH_LOOP_FILE and reset at each SIGUSR2.
// Outside the agent's code, so the figure holds however the agent is built inside.
import { renameSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

const file = process.env.EDGE_BENCH_LOOP_FILE;
if (isMainThread && file) {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  let n = 0;
  process.on('SIGUSR2', () => {
    const ms = (v: number) => Math.round(v / 1e4) / 100;
    // Renamed into place: the bench polls the file and must never read it half written.
    writeFileSync(`${file}.tmp`, JSON.stringify({ n: ++n, p99: ms(h.percentile(99)), max: ms(h.max) }));
    renameSync(`${file}.tmp`, file);
    h.reset();
  });
}
