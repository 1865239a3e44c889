import { mkdirSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { BenchDaemon, rssMb, sleep } from './daemon.js';
import type { BrokerAccess } from './drain.js';
import { Feeder } from './feed.js';

/**
 * A TCP proxy that passes at most `bytesPerS` each way per connection: a
 * cellular uplink carrying one or two messages a second. TLS goes through it untouched.
 */
export class ThrottledLink {
  port = 0;
  private server: Server | undefined;
  private readonly socks = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly upstreamPort: number,
    private readonly bytesPerS: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((down) => {
      const up = connect(this.upstreamPort, '127.0.0.1');
      for (const s of [down, up]) {
        this.socks.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          down.destroy();
          up.destroy();
        });
      }
      this.pipe(down, up);
      this.pipe(up, down);
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Reads `from` into a queue and writes it to `to` in 100 ms slices of bytesPerS/10. */
  private pipe(from: Socket, to: Socket): void {
    const queue: Buffer[] = [];
    let queued = 0;
    from.on('data', (d: Buffer) => {
      queue.push(d);
      queued += d.length;
      // Hold the sender back as a slow link would: TCP's own window fills up behind us.
      if (queued > this.bytesPerS) from.pause();
    });
    const t = setInterval(() => {
      let budget = Math.max(1, Math.floor(this.bytesPerS / 10));
      while (budget > 0 && queue.length > 0) {
        const head = queue[0];
        const n = Math.min(budget, head.length);
        if (!to.destroyed) to.write(head.subarray(0, n));
        if (n === head.length) queue.shift();
        else queue[0] = head.subarray(n);
        queued -= n;
        budget -= n;
      }
      if (queued <= this.bytesPerS && from.isPaused()) from.resume();
    }, 100);
    this.timers.add(t);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const s of this.socks) s.destroy();
    await new Promise((r) => this.server?.close(r));
  }
}

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
  const link = new ThrottledLink(brokerPort, opts.bytesPerS);
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
