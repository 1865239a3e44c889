import {
  type ApiRequest,
  clearedSessionCookie,
  HttpError,
  type Route,
  sessionCookie,
  validate,
} from '../http/index.js';
import type { ApiContext } from './context.js';

const LOGIN = {
  username: { type: 'string', min: 1, max: 63 },
  password: { type: 'string', min: 1, max: 256 },
} as const;

const who = (req: ApiRequest): string => (req.session as NonNullable<ApiRequest['session']>).username;

/** Login, logout, the current session, and for admins the accounts and the action log. */
export function accessRoutes(ctx: ApiContext): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/v1/login',
      role: null,
      handler: async (req) => {
        const { username, password } = validate(req.body, LOGIN);
        const keys = [`user:${username}`, `ip:${req.ip}`];
        const wait = Math.max(...keys.map((k) => ctx.limiter.retryAfter(k)));
        if (wait > 0) {
          const s = Math.ceil(wait / 1000);
          throw new HttpError(429, 'RATE_LIMITED', `too many failed logins: try again in ${s} s`, undefined, {
            'retry-after': String(s),
          });
        }
        const user = await ctx.users.authenticate(username, password);
        if (!user) {
          for (const k of keys) ctx.limiter.fail(k);
          await ctx.audit.record({ username, action: 'login.failed', ip: req.ip });
          throw new HttpError(401, 'BAD_CREDENTIALS', 'wrong user name or password');
        }
        ctx.limiter.succeed(`user:${username}`);
        const { token, csrfToken } = await ctx.sessions.create(user.username);
        await ctx.audit.record({ username, action: 'login', ip: req.ip });
        return {
          json: { username: user.username, role: user.role, csrfToken },
          cookies: [sessionCookie(token, Math.floor(ctx.sessionPolicy.absoluteMs / 1000))],
        };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/logout',
      role: 'viewer',
      handler: async (req) => {
        await ctx.sessions.destroy(req.token as string);
        await ctx.audit.record({ username: who(req), action: 'logout', ip: req.ip });
        return { json: { ok: true }, cookies: [clearedSessionCookie()] };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/session',
      role: 'viewer',
      handler: async (req) => {
        const s = req.session as NonNullable<ApiRequest['session']>;
        return {
          json: {
            username: s.username,
            role: s.role,
            csrfToken: s.csrfToken,
            expiresAt: new Date(s.expiresAtMs).toISOString(),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/users',
      role: 'admin',
      handler: async () => ({ json: { users: await ctx.users.list() } }),
    },
    {
      method: 'GET',
      path: '/api/v1/audit',
      role: 'admin',
      handler: async (req) => {
        const limit = queryInt(req, 'limit', 100, 1, 1000);
        const before = req.query.has('before')
          ? queryInt(req, 'before', 0, 1, Number.MAX_SAFE_INTEGER)
          : undefined;
        return { json: { entries: await ctx.audit.list(limit, before) } };
      },
    },
  ];
}

/** An integer query parameter, bounded; a 400 naming it otherwise. */
export function queryInt(req: ApiRequest, name: string, dflt: number, min: number, max: number): number {
  const v = req.query.get(name);
  if (v === null) return dflt;
  const n = Number(v);
  if (!/^\d{1,15}$/.test(v) || n < min || n > max)
    throw new HttpError(400, 'BAD_REQUEST', `must be an integer between ${min} and ${max}`, name);
  return n;
}
