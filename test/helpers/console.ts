import { request } from 'node:https';

export interface ApiReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

/** An HTTPS client of the console that keeps its session cookie and CSRF token, like a browser tab. */
export class ConsoleClient {
  cookie: string | null = null;
  csrf: string | null = null;

  constructor(
    readonly base: string,
    private readonly ca: string,
  ) {}

  async login(username: string, password: string): Promise<ApiReply> {
    const r = await this.send('POST', '/api/v1/login', { username, password });
    const set = r.headers['set-cookie'];
    if (r.status === 200 && Array.isArray(set)) {
      this.cookie = set[0].split(';')[0];
      this.csrf = (r.body as { csrfToken: string }).csrfToken;
    }
    return r;
  }

  get(path: string): Promise<ApiReply> {
    return this.send('GET', path);
  }

  /** A state-changing call; `csrf: false` leaves the token out. */
  post(
    path: string,
    body?: unknown,
    opts: { csrf?: boolean; method?: 'POST' | 'PATCH' | 'DELETE' } = {},
  ): Promise<ApiReply> {
    return this.send(opts.method ?? 'POST', path, body, opts.csrf ?? true);
  }

  send(
    method: string,
    path: string,
    body?: unknown,
    csrf = false,
    raw?: { text: string; type: string },
  ): Promise<ApiReply> {
    const data = raw ? raw.text : body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (data !== undefined) headers['content-type'] = raw ? raw.type : 'application/json';
    if (this.cookie) headers.cookie = this.cookie;
    if (csrf && this.csrf) headers['x-csrf-token'] = this.csrf;
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.base), { method, headers, ca: this.ca }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
        });
      });
      req.on('error', reject);
      req.end(data);
    });
  }
}
