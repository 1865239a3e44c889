import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Db } from '../types.js';

/** The store's notification channel the console's triggers and services write to. */
export const CHANNEL = 'edge_console';
const KINDS = new Set(['alert', 'status', 'incident']);

/**
 * Server-sent events fed from the store's LISTEN/NOTIFY: one listening session for the
 * whole console, each notification fanned out to every open page.
 */
export class LiveHub {
  private readonly clients = new Set<ServerResponse>();
  private unlisten: (() => Promise<void>) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    /** Called on every status change (the console sweeps for offline gateways then). */
    private readonly onStatus: () => void,
    private readonly headers: Record<string, string>,
  ) {}

  async start(): Promise<void> {
    this.unlisten = await this.db.listen(CHANNEL, (p) => this.publish(p));
    // Proxies and browsers drop a silent stream; a comment line every 15 s keeps it open.
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) c.write(':\n\n');
    }, 15_000);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const c of this.clients) c.end();
    this.clients.clear();
    await this.unlisten?.();
    this.unlisten = undefined;
  }

  attach(res: ServerResponse): void {
    res.writeHead(200, {
      ...this.headers,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
    });
    res.write('retry: 1000\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  get size(): number {
    return this.clients.size;
  }

  private publish(payload: string): void {
    let kind: unknown;
    try {
      kind = (JSON.parse(payload) as { kind?: unknown }).kind;
    } catch (err) {
      this.log.warn({ err }, 'unreadable console notification');
      return;
    }
    if (typeof kind !== 'string' || !KINDS.has(kind)) return;
    const frame = `event: ${kind}\ndata: ${payload}\n\n`;
    for (const c of this.clients) c.write(frame);
    if (kind === 'status') this.onStatus();
  }
}
