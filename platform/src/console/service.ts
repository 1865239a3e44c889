import type { Logger } from 'pino';
import {
  AuditLog,
  DEFAULT_SESSION_POLICY,
  type KdfParams,
  type SessionPolicy,
  Sessions,
  STRONG_KDF,
  Users,
} from './access/index.js';
import { AlertBook, AlertSweep, DEFAULT_SWEEP, type SweepPolicy } from './alerts/index.js';
import { alertRoutes } from './api/alerts.js';
import { accessRoutes } from './api/auth.js';
import { complianceRoutes } from './api/compliance.js';
import type { ApiContext, LimitPolicy } from './api/context.js';
import { fleetRoutes } from './api/fleet.js';
import { gatewayRoutes } from './api/gateway.js';
import { incidentRoutes } from './api/incidents.js';
import { reportRoutes } from './api/report.js';
import { softwareRoutes } from './api/software.js';
import { HttpServer, SECURITY_HEADERS } from './http/index.js';
import { IncidentBook } from './incidents/index.js';
import { LiveHub } from './live/index.js';
import { ASSETS_DIR } from './pages/index.js';
import { migrateConsole } from './schema/index.js';
import { refreshSoftware } from './software/index.js';
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
  sweep?: SweepPolicy;
  /** How often the alert sweep looks at the store (status changes also trigger it). */
  sweepIntervalMs?: number;
}

export const DEFAULT_LOGIN_LIMIT: LimitPolicy = { max: 5, windowMs: 15 * 60_000 };

/** `edge-platform console`: the JSON API and pages over the platform's store, on HTTPS. */
export class Console {
  private http: HttpServer | undefined;
  private ctx: ApiContext | undefined;
  private sweeper: AlertSweep | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;
  private live: LiveHub | undefined;

  constructor(private readonly opts: ConsoleOptions) {}

  async start(): Promise<void> {
    const o = this.opts;
    const clock = o.clock ?? Date.now;
    await migrateConsole(o.db);
    const sessionPolicy = o.sessionPolicy ?? DEFAULT_SESSION_POLICY;
    const limit = o.loginLimit ?? DEFAULT_LOGIN_LIMIT;
    const audit = new AuditLog(o.db, clock);
    const alerts = new AlertBook(o.db, clock);
    const ctx: ApiContext = {
      db: o.db,
      clock,
      users: new Users(o.db, clock, o.kdf ?? STRONG_KDF),
      sessions: new Sessions(o.db, clock, sessionPolicy),
      sessionPolicy,
      audit,
      alerts,
      incidents: new IncidentBook(o.db, clock, audit),
      loginLimit: limit,
      log: o.log.child({ module: 'console' }),
    };
    const live = new LiveHub(o.db, ctx.log, () => void this.sweep(), SECURITY_HEADERS);
    const http = new HttpServer({
      host: o.host ?? '127.0.0.1',
      port: o.port ?? 8443,
      cert: o.cert,
      key: o.key,
      sessions: ctx.sessions,
      clock,
      log: ctx.log,
      assets: ASSETS_DIR,
      routes: (app) => {
        accessRoutes(app, ctx);
        alertRoutes(app, ctx);
        incidentRoutes(app, ctx);
        fleetRoutes(app, ctx);
        gatewayRoutes(app, ctx);
        complianceRoutes(app, ctx);
        softwareRoutes(app, ctx);
        reportRoutes(app, ctx);
        app.get('/api/v1/events', { config: { role: 'viewer' } }, (_req, reply) => {
          // The stream outlives the handler: the hub owns the socket until the page goes.
          reply.hijack();
          live.attach(reply.raw);
        });
      },
    });
    await live.start();
    try {
      await http.start();
    } catch (e) {
      await live.stop();
      throw e;
    }
    this.live = live;
    this.ctx = ctx;
    this.http = http;
    this.sweeper = new AlertSweep(o.db, clock, alerts, o.sweep ?? DEFAULT_SWEEP);
    this.timer = setInterval(() => void this.sweep(), o.sweepIntervalMs ?? 15_000);
    this.timer.unref();
  }

  /**
   * Runs the alert sweep now, then reads the SBOM reports the console has not read yet (one
   * run at a time); failures are logged, never thrown.
   */
  sweep(): Promise<number> {
    const s = this.sweeper;
    if (!s) return Promise.resolve(0);
    this.sweeping ??= s
      .run()
      .then(async (n) => {
        await refreshSoftware(this.opts.db);
        return n;
      })
      .catch((err: unknown) => {
        this.ctx?.log.error({ err }, 'alert sweep failed');
        return 0;
      })
      .finally(() => {
        this.sweeping = undefined;
      });
    return this.sweeping;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
    this.sweeper = undefined;
    await this.live?.stop();
    this.live = undefined;
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
