import { createHash, randomBytes } from 'node:crypto';
import type { Clock, Db, Role } from '../types.js';
import type { Session } from './types.js';

export interface SessionPolicy {
  /** A session unused this long ends. */
  idleMs: number;
  /** No session lives longer than this, used or not. */
  absoluteMs: number;
}
export const DEFAULT_SESSION_POLICY: SessionPolicy = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 };

const hashOf = (token: string): Buffer => createHash('sha256').update(token).digest();
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Server-side sessions: the cookie carries a random token, the store only its hash. */
export class Sessions {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly policy: SessionPolicy = DEFAULT_SESSION_POLICY,
  ) {}

  /** A new session: the cookie's token, and the secret its CSRF tokens are made from (kept server-side only). */
  async create(username: string): Promise<{ token: string; csrfSecret: string }> {
    const token = randomBytes(32).toString('base64url');
    const csrfSecret = randomBytes(32).toString('base64url');
    const now = this.clock();
    await this.db.query(
      `INSERT INTO console_sessions (token_hash, username, csrf_secret, created_at, last_seen_at, expires_at)
       VALUES ($1, $2, $3, to_timestamp($4 / 1000.0), to_timestamp($4 / 1000.0), to_timestamp($5 / 1000.0))`,
      [hashOf(token), username, csrfSecret, now, now + this.policy.absoluteMs],
    );
    return { token, csrfSecret };
  }

  /** The session a cookie token opens, refreshed; null when unknown, expired, idle too long or its user disabled. */
  async lookup(token: string): Promise<Session | null> {
    if (!TOKEN.test(token)) return null;
    const now = this.clock();
    const [r] = await this.db.query<{ username: string; role: Role; csrf_secret: string; expires: number }>(
      `UPDATE console_sessions s SET last_seen_at = to_timestamp($2 / 1000.0)
       FROM console_users u
       WHERE s.token_hash = $1 AND u.username = s.username AND u.disabled_at IS NULL
         AND s.expires_at > to_timestamp($2 / 1000.0) AND s.last_seen_at > to_timestamp(($2 - $3) / 1000.0)
       RETURNING s.username, u.role, s.csrf_secret, (extract(epoch FROM s.expires_at) * 1000)::float8 AS expires`,
      [hashOf(token), now, this.policy.idleMs],
    );
    if (!r) return null;
    return { username: r.username, role: r.role, csrfSecret: r.csrf_secret, expiresAtMs: Number(r.expires) };
  }

  async destroy(token: string): Promise<void> {
    await this.db.query('DELETE FROM console_sessions WHERE token_hash = $1', [hashOf(token)]);
  }

  /** Drops sessions past their end (called now and then; lookup already refuses them). */
  async sweep(): Promise<number> {
    const now = this.clock();
    const rows = await this.db.query(
      `DELETE FROM console_sessions WHERE expires_at <= to_timestamp($1 / 1000.0)
         OR last_seen_at <= to_timestamp(($1 - $2) / 1000.0) RETURNING 1`,
      [now, this.policy.idleMs],
    );
    return rows.length;
  }
}
