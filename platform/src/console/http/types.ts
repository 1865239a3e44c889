import type { Session } from '../access/index.js';
import type { Role } from '../types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The operator's session, set by the guard on every route with a role (null on
     * public ones). @fastify/csrf-protection reads its `csrfSecret` (sessionKey).
     */
    session: Session | null;
    /** The raw session token from the cookie (for logout). */
    sessionToken: string | null;
  }
  interface FastifyContextConfig {
    /** The least role that may call the route; absent: anyone (the page, its assets, the login call). */
    role?: Role;
  }
}

/** The session cookie: `__Host-` pins it to this origin, HTTPS and path `/`. */
export const SESSION_COOKIE = '__Host-edge-session';
export const sessionCookieOptions = (maxAgeS: number) =>
  ({ path: '/', maxAge: maxAgeS, httpOnly: true, secure: true, sameSite: 'strict' }) as const;
