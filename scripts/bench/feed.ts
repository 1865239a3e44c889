import { connect, type Socket } from 'node:net';

/** One NDJSON reading as a sensor sends it (about 100 bytes, like the in-process bench's). */
const LINE = `${JSON.stringify({
  sensor: 'aq-7',
  value: 12.5,
  unit: 'ug/m3',
  labels: { site: 'north-cabinet-12', metric: 'pm2_5' },
})}\n`;

/** The daemon accepts at most 512 unanswered lines per connection: more connections, more batching. */
const PER_CONNECTION = 500;

/**
 * Sensors writing readings to agent.sock: `rate` lines per second in 10 ms
 * steps (Infinity: as fast as the daemon answers), over `connections`
 * sockets. Counts the replies; a line is accepted once its batch has committed.
 */
export class Feeder {
  accepted = 0;
  rejected = 0;
  sent = 0;
  private socks: Socket[] = [];

  constructor(
    private readonly path: string,
    private readonly connections = 1,
  ) {}

  get lineBytes(): number {
    return LINE.length;
  }

  async open(): Promise<void> {
    for (let i = 0; i < this.connections; i++) {
      const s = connect(this.path);
      await new Promise<void>((resolve, reject) => {
        s.once('connect', resolve);
        s.once('error', reject);
      });
      let tail = '';
      s.on('data', (d: Buffer) => {
        const text = tail + d.toString('utf8');
        const end = text.lastIndexOf('\n');
        tail = text.slice(end + 1);
        for (const reply of text.slice(0, end + 1).split('\n')) {
          if (reply === '') continue;
          if (reply.includes('"ok":true')) this.accepted++;
          else this.rejected++;
        }
      });
      this.socks.push(s);
    }
  }

  /**
   * Feeds for `seconds`, or until `limit` lines in all were sent; `tick` is
   * called every 10 ms with the seconds elapsed.
   */
  async run(
    rate: number,
    seconds: number,
    opts: { tick?: (elapsedS: number) => void; limit?: number } = {},
  ): Promise<void> {
    const t0 = performance.now();
    const first = this.sent;
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    let next = 0;
    for (;;) {
      const elapsed = (performance.now() - t0) / 1000;
      if (elapsed >= seconds || this.sent >= limit) break;
      opts.tick?.(elapsed);
      const due = Math.min(
        limit - this.sent,
        Number.isFinite(rate) ? Math.floor(rate * elapsed) - (this.sent - first) : Number.POSITIVE_INFINITY,
      );
      const room = this.socks.length * PER_CONNECTION - (this.sent - this.accepted - this.rejected);
      let n = Math.max(0, Math.min(due, room));
      while (n > 0) {
        const s = this.socks[next++ % this.socks.length];
        const k = Math.min(n, 50);
        s.write(LINE.repeat(k));
        this.sent += k;
        n -= k;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Waits (at most `maxMs`) for every line sent to be answered. */
  async settle(maxMs = 60_000): Promise<void> {
    const t0 = performance.now();
    while (this.accepted + this.rejected < this.sent && performance.now() - t0 < maxMs)
      await new Promise((r) => setTimeout(r, 20));
  }

  close(): void {
    for (const s of this.socks) s.destroy();
    this.socks = [];
  }
}
