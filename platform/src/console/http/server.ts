import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Sessions } from '../access/index.js';
import { ConsoleError } from '../errors.js';
import { roleAtLeast } from '../types.js';
import { readCookie, SESSION_COOKIE } from './cookies.js';
import { badRequest, HttpError } from './errors.js';
import type { ApiRequest, Method, Reply, Route } from './types.js';

export interface HttpOptions {
  host: string;
  port: number;
  cert: string | Buffer;
  key: string | Buffer;
  routes: Route[];
  sessions: Sessions;
  log: Logger;
  /** Largest request body accepted. */
  bodyLimit?: number;
}

const METHODS = new Set<string>(['GET', 'POST', 'PATCH', 'DELETE']);
/** Pages are served from here only: no inline script, no other origin. */
const SECURITY_HEADERS: Record<string, string> = {
  'strict-transport-security': 'max-age=31536000',
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

interface Compiled {
  route: Route;
  parts: string[];
}

/**
 * The console's HTTPS server on Node's own `https` (fastify is not installed; see
 * platform/NEEDS-DEPS.md): routing, JSON bodies, sessions, roles and CSRF in one place,
 * so that no handler can forget them.
 */
export class HttpServer {
  private server: Server | undefined;
  private readonly compiled: Compiled[];

  constructor(private readonly opts: HttpOptions) {
    this.compiled = opts.routes.map((route) => ({ route, parts: route.path.split('/') }));
  }

  async start(): Promise<void> {
    const server = createServer(
      { cert: this.opts.cert, key: this.opts.key, minVersion: 'TLSv1.2' },
      (req, res) => {
        this.handle(req, res).catch((err: unknown) => {
          this.opts.log.error({ err }, 'console request failed');
          if (!res.headersSent)
            send(res, 500, { error: 'INTERNAL', reason: 'internal error (logged on the server)' });
          else res.destroy();
        });
      },
    );
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | undefined)?.port ?? 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://console.invalid');
    try {
      const method = req.method ?? 'GET';
      const found = this.match(method, url.pathname);
      if (!found) throw new HttpError(404, 'NOT_FOUND', `no ${method} ${url.pathname}`);
      const { route, params } = found;
      const token = readCookie(req.headers.cookie, SESSION_COOKIE);
      const session = route.role === null || token === null ? null : await this.opts.sessions.lookup(token);
      if (route.role !== null) {
        if (!session) throw new HttpError(401, 'UNAUTHENTICATED', 'log in first');
        if (!roleAtLeast(session.role, route.role))
          throw new HttpError(403, 'FORBIDDEN', `needs the ${route.role} role (you are ${session.role})`);
        if (method !== 'GET' && !sameToken(req.headers['x-csrf-token'], session.csrfToken))
          throw new HttpError(403, 'CSRF', 'missing or wrong X-CSRF-Token header');
      }
      const body = method === 'GET' ? undefined : await readJson(req, this.opts.bodyLimit ?? 65_536);
      const request: ApiRequest = {
        method: method as Method,
        path: url.pathname,
        params,
        query: url.searchParams,
        headers: req.headers,
        body,
        ip: req.socket.remoteAddress ?? '',
        session,
        token,
      };
      reply(res, await route.handler(request));
    } catch (caught) {
      const e = caught instanceof ConsoleError ? fromConsoleError(caught) : caught;
      if (!(e instanceof HttpError)) throw e;
      if (e.status >= 500) this.opts.log.error({ err: e }, 'console request failed');
      send(res, e.status, e.toJSON(), e.headers);
    }
  }

  private match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    if (!METHODS.has(method)) return undefined;
    const segs = path.split('/');
    for (const c of this.compiled) {
      if (c.route.method !== method || c.parts.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; ok && i < segs.length; i++) {
        const p = c.parts[i];
        if (p.startsWith(':')) params[p.slice(1)] = safeDecode(segs[i]);
        else ok = p === segs[i];
      }
      if (ok) return { route: c.route, params };
    }
    return undefined;
  }
}

const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** A refusal of the console's services as the client sees it: the field is what precedes the first colon. */
function fromConsoleError(e: ConsoleError): HttpError {
  if (e.code === 'NOT_FOUND') return new HttpError(404, 'NOT_FOUND', e.message);
  if (e.code === 'BAD_TRANSITION') return new HttpError(409, 'BAD_TRANSITION', e.message);
  const m = /^([A-Za-z]+): (.*)$/s.exec(e.message);
  return new HttpError(400, 'BAD_REQUEST', m ? m[2] : e.message, m ? m[1] : 'body');
}

function sameToken(got: string | string[] | undefined, want: string): boolean {
  if (typeof got !== 'string') return false;
  const a = Buffer.from(got);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The body as JSON: `application/json` only (a cross-site form cannot send it without a preflight). */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw new HttpError(413, 'TOO_LARGE', `request body over ${limit} bytes`);
    chunks.push(c);
  }
  if (size === 0) return undefined;
  if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? ''))
    throw badRequest('content-type', 'must be application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw badRequest('body', 'is not valid JSON');
  }
}

function reply(res: ServerResponse, r: Reply): void {
  if ('stream' in r) {
    r.stream(res);
    return;
  }
  if (r.cookies) res.setHeader('set-cookie', r.cookies);
  if ('json' in r) send(res, r.status ?? 200, r.json);
  else {
    res.writeHead(r.status ?? 200, { ...SECURITY_HEADERS, 'content-type': r.type });
    res.end(r.text);
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...headers,
    'content-type': 'application/json; charset=utf-8',
  });
  res.end(JSON.stringify(body));
}

export { SECURITY_HEADERS };
