import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy standing in for a cellular uplink: at most `bytesPerS` each way
 * per connection (100 ms slices), and faults a hostile link has: `freeze`
 * (packets vanish, no FIN or RST: the socket looks open), `cut` (every
 * connection reset) and `down` (new connections refused until `up`). TLS
 * passes through untouched. Listens on a fixed port once started, so the
 * agent's configured URL stays valid across faults. The bench's throttled-link
 * figures and the tests' hostile link (`test/integration/hostile-link.test.ts`) both use it.
 */
export class FlakyLink {
  port = 0;
  frozen = false;
  /** Connections accepted, and bytes passed towards the broker and back. */
  readonly counts = { connections: 0, upBytes: 0, downBytes: 0 };
  private refusing = false;
  private server: Server | undefined;
  private readonly socks = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly upstreamPort: number,
    public bytesPerS: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((down) => {
      if (this.refusing) return void down.destroy();
      this.counts.connections++;
      const up = connect(this.upstreamPort, '127.0.0.1');
      const timers: NodeJS.Timeout[] = [];
      for (const s of [down, up]) {
        this.socks.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          this.socks.delete(s);
          for (const t of timers) {
            clearInterval(t);
            this.timers.delete(t);
          }
          down.destroy();
          up.destroy();
        });
      }
      timers.push(this.pipe(down, up, 'upBytes'), this.pipe(up, down, 'downBytes'));
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Every open connection reset; the next ones go through. */
  cut(): void {
    for (const s of this.socks) s.destroy();
  }

  /** Cut, and refuse new connections until `up`. */
  down(): void {
    this.refusing = true;
    this.cut();
  }

  up(): void {
    this.refusing = false;
    this.frozen = false;
  }

  private pipe(from: Socket, to: Socket, count: 'upBytes' | 'downBytes'): NodeJS.Timeout {
    const queue: Buffer[] = [];
    let queued = 0;
    from.on('data', (d: Buffer) => {
      queue.push(d);
      queued += d.length;
      if (queued > this.bytesPerS) from.pause();
    });
    const t = setInterval(() => {
      if (this.frozen) return;
      let budget = Math.max(1, Math.floor(this.bytesPerS / 10));
      while (budget > 0 && queue.length > 0) {
        const head = queue[0];
        const n = Math.min(budget, head.length);
        if (!to.destroyed) to.write(head.subarray(0, n));
        this.counts[count] += n;
        if (n === head.length) queue.shift();
        else queue[0] = head.subarray(n);
        queued -= n;
        budget -= n;
      }
      if (queued <= this.bytesPerS && from.isPaused()) from.resume();
    }, 100);
    this.timers.add(t);
    return t;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.cut();
    await new Promise((r) => this.server?.close(r));
  }
}
