import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BenchDaemon, buildSlowfs, rssMb, writeBytes } from './daemon.js';
import type { BrokerAccess } from './drain.js';
import { Feeder } from './feed.js';

/** How long each measured phase runs. */
export interface GatewayPlan {
  /** Seconds of the demo-like trickle (10 readings/s) before idle RSS is read. */
  demoS: number;
  /** Seconds at 1,000 readings/s, after 2 s of warm-up. */
  steadyS: number;
  /** Seconds of the flat-out ingest (the first 2 s are warm-up). */
  maxS: number;
}

export const DEFAULT_PLAN: GatewayPlan = { demoS: 15, steadyS: 10, maxS: 10 };

/**
 * The daemon under a gateway's conditions, measured from outside (agent.sock,
 * /proc, the event-loop probe): event-loop p99 while sensors send 1,000
 * readings/s, with every fsync as it is and delayed by 30 ms (an SD card);
 * the highest sustained ingest; bytes written to disk per byte accepted;
 * idle and peak RSS. Connected to the broker, so it drains as it ingests.
 */
export async function benchGateway(
  dir: string,
  broker: BrokerAccess,
  plan: GatewayPlan,
  log: (s: string) => void,
): Promise<Record<string, number | string>> {
  const slow = buildSlowfs(dir);
  const out: Record<string, number | string> = {};
  log(`gateway: the daemon at fsync +0 ms (demo ${plan.demoS} s, 1,000 readings/s ${plan.steadyS} s)...`);
  Object.assign(out, await onePass(dir, broker, 0, undefined, plan));
  if ('skipped' in slow) {
    for (const k of ['loop_p99_ms_1k_fsync30', 'ingest_max_readings_per_s_fsync30']) out[k] = slow.skipped;
    log(`gateway: fsync +30 ms ${slow.skipped}`);
  } else {
    log(`gateway: the daemon at fsync +30 ms (slowfs), 1,000 readings/s then flat out ${plan.maxS} s...`);
    Object.assign(out, await onePass(dir, broker, 30, slow.lib, plan));
  }
  return out;
}

async function onePass(
  root: string,
  broker: BrokerAccess,
  fsyncMs: number,
  slowfsLib: string | undefined,
  plan: GatewayPlan,
): Promise<Record<string, number>> {
  const dir = join(root, `gateway-fsync${fsyncMs}`);
  mkdirSync(dir, { recursive: true });
  const d = new BenchDaemon({ dir, id: `gw-fsync${fsyncMs}`, broker, fsyncMs, slowfsLib });
  d.init();
  await d.start();
  const f = new Feeder(d.sock);
  const fast = new Feeder(d.sock, 16);
  try {
    await f.open();
    const out: Record<string, number> = {};
    const tag = `fsync${fsyncMs}`;
    if (fsyncMs === 0) {
      await f.run(10, plan.demoS);
      await f.settle();
      out.rss_idle_mb = rssMb(d.pid);
      out.rss_idle_anon_mb = rssMb(d.pid, 'RssAnon');
    }
    await f.run(1000, 2);
    await d.loopMark();
    const w0 = writeBytes(d.pid);
    const a0 = f.accepted;
    await f.run(1000, plan.steadyS);
    await f.settle();
    const loop = await d.loopMark();
    out[`loop_p99_ms_1k_${tag}`] = loop.p99;
    out[`loop_max_ms_1k_${tag}`] = loop.max;
    if (fsyncMs === 0) {
      // write_bytes is charged when a page is dirtied, so what is still in the page cache counts already.
      const accepted = (f.accepted - a0) * f.lineBytes;
      out.disk_bytes_per_byte_accepted = Math.round(((writeBytes(d.pid) - w0) / accepted) * 100) / 100;
      out.rss_peak_1k_mb = rssMb(d.pid, 'VmHWM');
    }
    if (fsyncMs > 0) {
      await fast.open();
      let warm = 0;
      let warmAt = 0;
      await fast.run(Number.POSITIVE_INFINITY, plan.maxS, {
        tick: (s) => {
          if (s >= 2 && warmAt === 0) {
            warm = fast.accepted;
            warmAt = performance.now();
          }
        },
      });
      out[`ingest_max_readings_per_s_${tag}`] = Math.round(
        (fast.accepted - warm) / ((performance.now() - warmAt) / 1000),
      );
      const max = await d.loopMark();
      out[`loop_p99_ms_max_${tag}`] = max.p99;
    }
    return out;
  } finally {
    f.close();
    fast.close();
    await d.stop();
  }
}
