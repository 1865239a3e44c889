import { waitFor } from '../../helpers/wait.js';
import { range, World } from '../../helpers/world.js';
import { outboxRows } from '../agentproc.js';
import { addDefect, emptyResult, type Row } from '../lib.js';

const FULL_READINGS = 1_000_000;
/** --quick: a tenth of the outage, said so in the row's notes. */
const QUICK_READINGS = 100_000;
const CHUNK = 50_000;
const DRAIN_BOUND_MS = 15 * 60_000;

/**
 * R3: the broker is away while a million readings are ingested through
 * agent.sock (the outage), then broker and collector come back and the agent
 * drains its backlog. At the collector every reading must be stored, once.
 */
export const r3: Row = {
  id: 'R3',
  what: 'a 1M-reading outage, then the drain: missing at the collector, stored twice',
  // A million readings take minutes to ingest and drain here: the full run only (`--only R3 --quick`
  // runs a tenth). Its collapse on a loaded machine came from the harness polling `status` with
  // spawnSync beside the in-process collector (see `outboxRows`).
  inQuick: false,
  async run(ctx) {
    const r = emptyResult('runs');
    const n = ctx.quick ? QUICK_READINGS : FULL_READINGS;
    const w = new World({ deviceId: 'gw-r3' });
    try {
      await w.setup();
      await w.startAgent();
      const t0 = Date.now();
      for (let from = 0; from < n; from += CHUNK) {
        const ing = w.ingest(range(from, Math.min(n, from + CHUNK)));
        if (ing.code !== 0) throw new Error(`ingest of ${from}.. failed: ${ing.stderr}`);
      }
      const ingestS = (Date.now() - t0) / 1000;
      const buffered = await outboxRows(w);
      await w.broker.start();
      await w.startCollector();
      const t1 = Date.now();
      try {
        await waitFor(async () => (await outboxRows(w)) === 0, 'the backlog to drain', DRAIN_BOUND_MS, 1000);
      } catch (e) {
        r.crashes++;
        addDefect(r, `hang: ${(e as Error).message}`);
      }
      const drainS = (Date.now() - t1) / 1000;
      r.cases = 1;
      if (w.daemon?.exitCode !== null) {
        r.crashes++;
        addDefect(r, `the agent exited (code ${w.daemon?.exitCode})`);
      }
      const seen = new Uint8Array(n);
      let foreign = 0;
      for (const v of (await w.stored()).values) {
        if (!Number.isInteger(v) || v < 0 || v >= n) foreign++;
        else if (seen[v] > 0) r.duplicates++;
        else seen[v] = 1;
      }
      for (let i = 0; i < n; i++) if (seen[i] === 0) r.lost++;
      if (r.lost > 0) addDefect(r, `${r.lost} of ${n} readings missing at the collector`);
      if (r.duplicates > 0) addDefect(r, `${r.duplicates} readings stored more than once`);
      if (foreign > 0) addDefect(r, `${foreign} values at the collector that were never ingested`);
      const rate = Math.round(n / Math.max(drainS, 0.001));
      r.notes = `${n.toLocaleString('en-US')} readings${ctx.quick ? ' (quick: a tenth of the 1M outage)' : ''} ingested offline in ${ingestS.toFixed(0)} s into ${buffered.toLocaleString('en-US')} rows, drained in ${drainS.toFixed(0)} s (${rate.toLocaleString('en-US')} readings/s); missing ${r.lost}, twice ${r.duplicates}`;
      ctx.log(r.notes);
    } finally {
      await w.close();
    }
    return r;
  },
};
