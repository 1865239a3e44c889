import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stream } from '../../../agent/src/core/index.js';
import { waitFor } from '../../helpers/wait.js';
import { World } from '../../helpers/world.js';
import { IngestStream, outboxRows } from '../agentproc.js';
import { addDefect, emptyResult, type Row, sleep } from '../lib.js';

const FULL_MS = 30 * 60_000;
const QUICK_MS = 45_000;
/** Readings per second, steady: a busy street cabinet, not a flood. */
const RATE = 200;
/** Thresholds of a leak: file descriptors that stay open, memory that keeps climbing, a loop that stalls. */
const MAX_FD_GROWTH = 10;
const MAX_RSS_GROWTH = 1.5;
const MAX_LOOP_P99_MS = 1000;

interface Sample {
  atS: number;
  rssMb: number;
  fds: number;
}

function sample(pid: number, t0: number): Sample | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return {
      atS: Math.round((Date.now() - t0) / 1000),
      rssMb: Math.round(kb / 102.4) / 10,
      fds: readdirSync(`/proc/${pid}/fd`).length,
    };
  } catch {
    return null;
  }
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? 0;

/**
 * R8: a soak. Steady ingest through agent.sock, the broker SIGKILLed and
 * restarted every so often, the agent's health figures on every 5 s. Samples
 * the daemon's RSS and open file descriptors from /proc; the event-loop p99 is
 * the agent's own (`event_loop_lag_p99` in its health readings at the
 * collector). At the end every accepted reading must be stored exactly once.
 */
export const r8: Row = {
  id: 'R8',
  beside: true,
  what: 'a soak with broker restarts and steady ingest: RSS growth, handles, event-loop p99',
  async run(ctx) {
    const r = emptyResult('s');
    const w = new World({ deviceId: 'gw-r8' });
    const runMs = ctx.quick ? QUICK_MS : FULL_MS;
    const restartEveryMs = ctx.quick ? 12_000 : 60_000;
    try {
      await w.setup();
      w.writeAgentConfig({ health: { enabled: true, schedule: '*/5 * * * * *' } });
      await w.broker.start();
      await w.startCollector();
      const daemon = await w.startAgent();
      const pid = daemon.pid ?? 0;
      const t0 = Date.now();
      const ing = new IngestStream(join(w.agentDir, 'data', 'agent.sock'), 0, RATE);
      ing.start();
      const samples: Sample[] = [];
      let restarts = 0;
      let nextRestart = t0 + restartEveryMs;
      while (Date.now() - t0 < runMs) {
        await sleep(5000);
        const s = sample(pid, t0);
        if (!s) {
          r.crashes++;
          addDefect(r, `the daemon is gone after ${Math.round((Date.now() - t0) / 1000)} s`);
          break;
        }
        samples.push(s);
        if (Date.now() >= nextRestart) {
          await w.broker.kill();
          await sleep(500 + ctx.rng.int(3000));
          await w.broker.start();
          restarts++;
          nextRestart = Date.now() + restartEveryMs;
        }
      }
      r.cases = Math.round((Date.now() - t0) / 1000);
      await ing.pause(2500);
      await ing.stopped();
      try {
        await waitFor(
          async () => (await outboxRows(w)) === 0,
          'the outbox to drain after the soak',
          300_000,
          1000,
        );
      } catch (e) {
        r.crashes++;
        addDefect(r, `hang: ${(e as Error).message}`);
      }
      const batches = await w.collectorBatches([Stream.TELEMETRY]);
      const counts = new Map<number, number>();
      const lags: number[] = [];
      for (const b of batches)
        for (const rd of b.readings) {
          const v = rd.value.value as number;
          if (rd.sensorId === 'aq-7') counts.set(v, (counts.get(v) ?? 0) + 1);
          else if (rd.labels.metric === 'event_loop_lag_p99') lags.push(v);
        }
      for (const v of ing.accepted) if (!counts.has(v)) r.lost++;
      for (const n of counts.values()) if (n > 1) r.duplicates += n - 1;
      if (r.lost > 0)
        addDefect(r, `${r.lost} accepted readings never reached the collector (seed ${ctx.seed})`);
      if (r.duplicates > 0) addDefect(r, `${r.duplicates} readings stored twice`);
      if (ing.accepted.length < ing.next * 0.9)
        addDefect(r, `only ${ing.accepted.length} of ${ing.next} readings were accepted`);
      // Past the first quarter (start-up, caches filling), the rest must level off.
      const warm = samples.slice(Math.floor(samples.length / 4));
      const q = Math.max(1, Math.floor(warm.length / 4));
      const early = median(warm.slice(0, q).map((s) => s.rssMb));
      const late = median(warm.slice(-q).map((s) => s.rssMb));
      // Medians, as for RSS: a status client or a broker reconnect holds a descriptor for a moment.
      const fd0 = median(warm.slice(0, q).map((s) => s.fds));
      const fdEnd = median(warm.slice(-q).map((s) => s.fds));
      const fdMax = Math.max(...samples.map((s) => s.fds));
      const lagMax = lags.length ? Math.max(...lags) : Number.NaN;
      if (late > early * MAX_RSS_GROWTH && late - early > 30)
        addDefect(r, `RSS grew from ${early} MB to ${late} MB`);
      if (fdEnd - fd0 > MAX_FD_GROWTH) addDefect(r, `open file descriptors grew from ${fd0} to ${fdEnd}`);
      if (lags.length === 0) addDefect(r, 'no event_loop_lag_p99 reached the collector: nothing measured');
      else if (lagMax > MAX_LOOP_P99_MS) addDefect(r, `event-loop p99 reached ${lagMax} ms`);
      r.notes = `${r.cases} s${ctx.quick ? ' (quick; the full run soaks 30 min)' : ''}, ${restarts} broker restarts, ${ing.accepted.length.toLocaleString('en-US')} readings accepted at ${RATE}/s, missing ${r.lost}, twice ${r.duplicates}; RSS ${early} -> ${late} MB (peak ${Math.max(...samples.map((s) => s.rssMb))}), fds ${fd0} -> ${fdEnd} (peak ${fdMax}), event-loop p99 median ${median(lags)} ms, max ${lagMax} ms over ${lags.length} samples`;
      ctx.log(r.notes);
    } finally {
      await w.close();
    }
    return r;
  },
};
