import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FlakyLink } from '../lib/flaky-link.js';
import { BenchDaemon, rssMb, sleep } from './daemon.js';
import type { BrokerAccess } from './drain.js';
import { Feeder } from './feed.js';

/**
 * The daemon draining through a 2 KB/s link: publishes outstanding at the
 * broker (from `status`) and RSS, sampled every second. Outstanding must
 * never exceed the window; RSS must stay flat.
 */
export async function benchThrottled(
  root: string,
  broker: BrokerAccess,
  brokerPort: number,
  opts: { bytesPerS: number; seconds: number; readings: number },
  log: (s: string) => void,
): Promise<Record<string, number | string>> {
  const dir = join(root, 'throttled');
  mkdirSync(dir, { recursive: true });
  // Never frozen, cut or refused here: only its throttle.
  const link = new FlakyLink(brokerPort, opts.bytesPerS);
  await link.start();
  // Batches of 10 readings (about 1 KB): the link carries one or two a second, and the window fills at once.
  const d = new BenchDaemon({
    dir,
    id: 'gw-throttled',
    broker,
    url: `mqtts://localhost:${link.port}`,
    config: { batching: { telemetry: { maxItems: 10, maxDelayMs: 200 } } },
  });
  d.init();
  log(`throttled: ${opts.readings} readings through a ${opts.bytesPerS} B/s link for ${opts.seconds} s...`);
  try {
    await d.start();
    const f = new Feeder(d.sock);
    await f.open();
    await f.run(Number.POSITIVE_INFINITY, 30, { limit: opts.readings });
    await f.settle();
    f.close();
    const series: string[] = [];
    let maxOut = 0;
    let window = 0;
    let pubacked = 0;
    const rss: number[] = [];
    for (let t = 0; t < opts.seconds; t++) {
      await sleep(1000);
      const s = await d.status();
      const del = s.link?.delivery;
      maxOut = Math.max(maxOut, del?.inflight ?? 0);
      window = del?.window ?? window;
      pubacked = del?.pubacked ?? pubacked;
      rss.push(rssMb(d.pid));
      if (t % 10 === 9) series.push(`${t + 1}s:${del?.inflight ?? '?'}/${rss.at(-1)}MB`);
    }
    return {
      throttled_bytes_per_s: opts.bytesPerS,
      throttled_window: window,
      throttled_outstanding_max: maxOut,
      throttled_pubacked: pubacked,
      throttled_rss_mb_first: rss[0],
      throttled_rss_mb_last: rss.at(-1) ?? Number.NaN,
      throttled_series: series.join(' '),
    };
  } finally {
    await d.stop();
    await link.stop();
  }
}
