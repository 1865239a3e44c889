import type { FastifyRequest } from 'fastify';
import {
  type App,
  HttpError,
  intQuery,
  queryInt,
  SESSION_COOKIE,
  sessionCookieOptions,
} from '../http/index.js';
import { type ApiContext, who } from './context.js';

interface Login {
  username: string;
  password: string;
}
const LOGIN = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password'],
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 63 },
    password: { type: 'string', minLength: 1, maxLength: 256 },
  },
} as const;
const EMPTY = { type: 'object', additionalProperties: false } as const;

/** Login, logout, the current session, and for admins the accounts and the action log. */
export function accessRoutes(app: App, ctx: ApiContext): void {
  // Failed logins only are counted (a success adds nothing), per name and per address:
  // @fastify/rate-limit's counters read before the password check, added to after a failure.
  const { max, windowMs } = ctx.loginLimit;
  const byUser = app.createRateLimit({
    max,
    timeWindow: windowMs,
    keyGenerator: (req) => `user:${(req.body as Login).username}`,
  });
  // One NAT may front several operators.
  const byIp = app.createRateLimit({
    max: max * 4,
    timeWindow: windowMs,
    keyGenerator: (req) => `ip:${req.ip}`,
  });

  app.post<{ Body: Login }>('/api/v1/login', { schema: { body: LOGIN } }, async (req, reply) => {
    const { username, password } = req.body;
    const states = await Promise.all([byUser(req, { increment: false }), byIp(req, { increment: false })]);
    const wait = Math.max(...states.map((s) => (!s.isAllowed && s.remaining === 0 ? s.ttlInSeconds : 0)));
    if (wait > 0)
      throw new HttpError(429, 'RATE_LIMITED', `too many failed logins: try again in ${wait} s`, undefined, {
        'retry-after': String(wait),
      });
    const user = await ctx.users.authenticate(username, password);
    if (!user) {
      await Promise.all([byUser(req), byIp(req)]);
      await ctx.audit.record({ username, action: 'login.failed', ip: req.ip });
      throw new HttpError(401, 'BAD_CREDENTIALS', 'wrong user name or password');
    }
    const { token, csrfSecret } = await ctx.sessions.create(user.username);
    await ctx.audit.record({ username, action: 'login', ip: req.ip });
    const maxAgeS = Math.floor(ctx.sessionPolicy.absoluteMs / 1000);
    req.session = { username, role: user.role, csrfSecret, expiresAtMs: ctx.clock() + maxAgeS * 1000 };
    reply.setCookie(SESSION_COOKIE, token, sessionCookieOptions(maxAgeS));
    return { username: user.username, role: user.role, csrfToken: reply.generateCsrf() };
  });

  app.post('/api/v1/logout', { config: { role: 'viewer' }, schema: { body: EMPTY } }, async (req, reply) => {
    await ctx.sessions.destroy(req.sessionToken as string);
    await ctx.audit.record({ username: who(req), action: 'logout', ip: req.ip });
    reply.setCookie(SESSION_COOKIE, '', sessionCookieOptions(0));
    return { ok: true };
  });

  app.get('/api/v1/session', { config: { role: 'viewer' } }, async (req, reply) => {
    const s = req.session as NonNullable<FastifyRequest['session']>;
    return {
      username: s.username,
      role: s.role,
      // A fresh token from the session's secret: every token of the session is accepted.
      csrfToken: reply.generateCsrf(),
      expiresAt: new Date(s.expiresAtMs).toISOString(),
    };
  });

  app.get('/api/v1/users', { config: { role: 'admin' } }, async () => ({ users: await ctx.users.list() }));

  app.get<{ Querystring: { limit?: string; before?: string } }>(
    '/api/v1/audit',
    { config: { role: 'admin' }, schema: { querystring: intQuery('limit', 'before') } },
    async (req) => {
      const limit = queryInt(req.query.limit, 'limit', 100, 1, 1000);
      const before =
        req.query.before === undefined
          ? undefined
          : queryInt(req.query.before, 'before', 0, 1, Number.MAX_SAFE_INTEGER);
      return { entries: await ctx.audit.list(limit, before) };
    },
  );
}
