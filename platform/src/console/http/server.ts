import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
  type onRequestHookHandler,
} from 'fastify';
import type { Logger } from 'pino';
import type { Sessions } from '../access/index.js';
import { type Clock, type Role, roleAtLeast } from '../types.js';
import { HttpError, toHttpError } from './errors.js';
import { clockedStore } from './limit-store.js';
import { SESSION_COOKIE } from './types.js';
import { schemaError } from './validation.js';

export type App = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger>;

export interface HttpOptions {
  host: string;
  port: number;
  cert: string | Buffer;
  key: string | Buffer;
  sessions: Sessions;
  clock: Clock;
  log: Logger;
  /** The folder of the page, script and style (served under /assets/, the page also at /). */
  assets: string;
  /** Registers the API's routes (after the guard is in place). */
  routes: (app: App) => void;
  bodyLimit?: number;
}

/** Pages are served from here only: no inline script, no other origin. */
export const SECURITY_HEADERS: Record<string, string> = {
  'strict-transport-security': 'max-age=31536000',
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** The session behind the cookie, with at least `role`; 401 or 403 otherwise, before the body is read. */
function guard(sessions: Sessions, role: Role): onRequestHookHandler {
  return async (req: FastifyRequest) => {
    const token = req.cookies[SESSION_COOKIE] ?? null;
    const session = token ? await sessions.lookup(token) : null;
    if (!session) throw new HttpError(401, 'UNAUTHENTICATED', 'log in first');
    if (!roleAtLeast(session.role, role))
      throw new HttpError(403, 'FORBIDDEN', `needs the ${role} role (you are ${session.role})`);
    req.session = session;
    req.sessionToken = token;
  };
}

/**
 * The console's fastify on HTTPS: every route with a `config.role` gets the session guard,
 * and when it changes state @fastify/csrf-protection's check (the secret lives in the
 * server-side session row, so the plugin runs in its session mode over our session).
 */
export async function buildHttp(o: HttpOptions): Promise<App> {
  const app = Fastify({
    https: { cert: o.cert, key: o.key, minVersion: 'TLSv1.2' },
    loggerInstance: o.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: o.bodyLimit ?? 65_536,
    requestTimeout: 30_000,
    exposeHeadRoutes: false,
    forceCloseConnections: true,
    // Bodies are checked as sent: no coercion ("42" is no integer), no silent removal of unknown fields.
    ajv: {
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, verbose: true },
    },
    schemaErrorFormatter: schemaError,
  }) as unknown as App;
  // JSON only: a cross-site form cannot send it without a preflight.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('session', null);
  app.decorateRequest('sessionToken', null);
  await app.register(fastifyCookie);
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/session',
    sessionKey: 'csrfSecret',
    getToken: (req) => {
      const t = req.headers['x-csrf-token'];
      return typeof t === 'string' ? t : undefined;
    },
  });
  await app.register(fastifyRateLimit, { global: false, store: clockedStore(o.clock) });
  await app.register(fastifyStatic, { root: o.assets, prefix: '/assets/', wildcard: false, index: false });
  app.addHook('onRoute', (r) => {
    const role = r.config?.role;
    if (!role) return;
    const hooks: onRequestHookHandler[] = [guard(o.sessions, role)];
    if (r.method !== 'GET') hooks.push(app.csrfProtection as onRequestHookHandler);
    r.onRequest = [...hooks, ...(r.onRequest === undefined ? [] : [r.onRequest].flat())];
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    return payload;
  });
  app.setErrorHandler((err, req, reply) => {
    const e = toHttpError(err);
    if (!e) {
      req.log.error({ err }, 'console request failed');
      return reply.code(500).send({ error: 'INTERNAL', reason: 'internal error (logged on the server)' });
    }
    return reply.code(e.status).headers(e.headers).send(e.toJSON());
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'NOT_FOUND', reason: `no ${req.method} ${req.url.split('?')[0]}` }),
  );
  app.get('/', (_req, reply) => reply.sendFile('index.html'));
  o.routes(app);
  return app;
}

/** The console's HTTPS listener over `buildHttp`, with start()/stop(). */
export class HttpServer {
  private app: App | undefined;

  constructor(private readonly opts: HttpOptions) {}

  async start(): Promise<void> {
    const app = await buildHttp(this.opts);
    await app.listen({ host: this.opts.host, port: this.opts.port });
    this.app = app;
  }

  async stop(): Promise<void> {
    const a = this.app;
    this.app = undefined;
    await a?.close();
  }

  get port(): number {
    return (this.app?.server.address() as AddressInfo | undefined)?.port ?? 0;
  }
}
