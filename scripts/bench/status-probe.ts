#!/usr/bin/env node
// Times `status` on agent.sock from a process of its own, one JSON line per answer. The
// million bench hosts the platform collector, whose work held up its own timing of the
// daemon's answers (#12): 0.3-1.9 s "socket latency" while the daemon sat idle.
import { request } from '../../agent/src/diag/index.js';
import { bufferedRows, type DaemonStatus } from './daemon.js';

const [sock, every = '250'] = process.argv.slice(2);
for (;;) {
  const t = performance.now();
  try {
    const st = (await request(sock, 'status', {}, 30_000)) as DaemonStatus;
    const ms = Math.round((performance.now() - t) * 10) / 10;
    const line = { ms, rows: bufferedRows(st), pubacked: st.link?.delivery?.pubacked ?? 0 };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } catch {
    // not up yet
  }
  await new Promise((r) => setTimeout(r, Number(every)));
}
