import type { Logger } from 'pino';
import {
  AuditLog,
  DEFAULT_SESSION_POLICY,
  type KdfParams,
  type LimitPolicy,
  LoginLimiter,
  type SessionPolicy,
  Sessions,
  STRONG_KDF,
  Users,
} from './access/index.js';
import { accessRoutes } from './api/auth.js';
import type { ApiContext } from './api/context.js';
import { HttpServer, type Route } from './http/index.js';
import { migrateConsole } from './schema/index.js';
import type { Clock, Db } from './types.js';

export interface ConsoleOptions {
  db: Db;
  log: Logger;
  /** TLS certificate and key (PEM) of the console. */
  cert: string | Buffer;
  key: string | Buffer;
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  clock?: Clock;
  kdf?: KdfParams;
  sessionPolicy?: SessionPolicy;
  /** Failed logins allowed per user name (and 4x that per client address) in the window. */
  loginLimit?: LimitPolicy;
}

export const DEFAULT_LOGIN_LIMIT: LimitPolicy = { max: 5, windowMs: 15 * 60_000 };

/** `edge-platform console`: the JSON API and pages over the platform's store, on HTTPS. */
export class Console {
  private http: HttpServer | undefined;
  private ctx: ApiContext | undefined;

  constructor(private readonly opts: ConsoleOptions) {}

  async start(): Promise<void> {
    const o = this.opts;
    const clock = o.clock ?? Date.now;
    await migrateConsole(o.db);
    const sessionPolicy = o.sessionPolicy ?? DEFAULT_SESSION_POLICY;
    const limit = o.loginLimit ?? DEFAULT_LOGIN_LIMIT;
    const ctx: ApiContext = {
      db: o.db,
      clock,
      users: new Users(o.db, clock, o.kdf ?? STRONG_KDF),
      sessions: new Sessions(o.db, clock, sessionPolicy),
      sessionPolicy,
      audit: new AuditLog(o.db, clock),
      limiter: new LoginLimiter(clock, limit),
      log: o.log.child({ module: 'console' }),
    };
    const routes: Route[] = [...accessRoutes(ctx)];
    const http = new HttpServer({
      host: o.host ?? '127.0.0.1',
      port: o.port ?? 8443,
      cert: o.cert,
      key: o.key,
      routes,
      sessions: ctx.sessions,
      log: ctx.log,
    });
    await http.start();
    this.ctx = ctx;
    this.http = http;
  }

  async stop(): Promise<void> {
    const h = this.http;
    this.http = undefined;
    await h?.stop();
  }

  get url(): string {
    return `https://${this.opts.host ?? '127.0.0.1'}:${this.http?.port}`;
  }

  get context(): ApiContext | undefined {
    return this.ctx;
  }
}
