import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';

/** A logged-in HTTPS client of the console over one kept-alive connection. */
export class ConsoleBenchClient {
  private readonly agent: Agent;
  private cookie = '';
  constructor(
    private readonly base: string,
    ca: string,
  ) {
    this.agent = new Agent({ ca, keepAlive: true, maxSockets: 1 });
  }

  call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; text: string; res: IncomingMessage }> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        new URL(path, this.base),
        {
          method,
          agent: this.agent,
          headers: { ...(data ? { 'content-type': 'application/json' } : {}), cookie: this.cookie },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), res }),
          );
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  async login(username: string, password: string): Promise<void> {
    const r = await this.call('POST', '/api/v1/login', { username, password });
    if (r.status !== 200) throw new Error(`bench login: ${r.status} ${r.text}`);
    this.cookie = String(r.res.headers['set-cookie']?.[0]).split(';')[0];
  }

  /** Times `n` GETs of `path(i)`; every answer must be 200. */
  async time(n: number, path: (i: number) => string): Promise<number[]> {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const r = await this.call('GET', path(i));
      ms.push(performance.now() - t0);
      if (r.status !== 200) throw new Error(`bench GET ${path(i)}: ${r.status} ${r.text.slice(0, 200)}`);
    }
    return ms;
  }

  /** The live stream: resolves each `alert` frame's device to `onAlert`. */
  sse(onAlert: (device: string) => void): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const req = request(
        new URL('/api/v1/events', this.base),
        { agent: false, ca: (this.agent.options as { ca: string }).ca, headers: { cookie: this.cookie } },
        (res) => {
          let buf = '';
          res.on('data', (c: Buffer) => {
            buf += c.toString();
            let i = buf.indexOf('\n\n');
            for (; i >= 0; i = buf.indexOf('\n\n')) {
              const frame = buf.slice(0, i);
              buf = buf.slice(i + 2);
              const data = /^event: alert\ndata: (.*)$/m.exec(frame)?.[1];
              if (data) onAlert(String((JSON.parse(data) as { device?: unknown }).device));
            }
          });
          resolve(() => req.destroy());
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
