import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../../scripts/lib/mosquitto.js';

/**
 * A TCP proxy to PostgreSQL that misbehaves on request, because the machine's server is
 * shared and never stopped: `down()` cuts every connection and refuses new ones; `stall()`
 * keeps every connection (and new ones) open but forwards nothing, as a server that hangs
 * or a path that silently drops packets does; `up()` restores both (held bytes go through).
 */
export class PgProxy {
  private server: Server | undefined;
  private readonly open = new Set<Socket>();
  private refusing = false;
  private stalled = false;
  private held: [Socket, Buffer][] = [];
  port = 0;

  constructor(
    private readonly host: string,
    private readonly target: number,
  ) {}

  /** The URL `url` (a postgres:// URL to the target) rewritten to go through this proxy. */
  via(url: string): string {
    const u = new URL(url);
    u.host = `127.0.0.1:${this.port}`;
    return u.toString();
  }

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = createServer((client) => {
      if (this.refusing) return void client.destroy();
      const server = createConnection(this.target, this.host);
      for (const [a, b] of [
        [client, server],
        [server, client],
      ]) {
        this.open.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          this.open.delete(a);
          b.destroy();
        });
        a.on('data', (chunk: Buffer) => {
          if (this.stalled) this.held.push([b, chunk]);
          else b.write(chunk);
        });
      }
    });
    await new Promise<void>((r) => this.server?.listen(this.port, '127.0.0.1', r));
  }

  down(): void {
    this.refusing = true;
    for (const s of this.open) s.destroy();
  }

  stall(): void {
    this.stalled = true;
  }

  up(): void {
    this.refusing = false;
    this.stalled = false;
    const held = this.held;
    this.held = [];
    for (const [to, chunk] of held) if (!to.destroyed) to.write(chunk);
  }

  async stop(): Promise<void> {
    this.down();
    await new Promise((r) => this.server?.close(r));
  }
}
