import type { Logger } from 'pino';
import type { AuditLog, SessionPolicy, Sessions, Users } from '../access/index.js';
import type { AlertBook } from '../alerts/index.js';
import type { IncidentBook } from '../incidents/index.js';
import type { Clock, Db } from '../types.js';

export interface LimitPolicy {
  /** Failed logins allowed per user name in the window (four times that per client address). */
  max: number;
  windowMs: number;
}

/** What the route handlers share: the store and the access services over it. */
export interface ApiContext {
  db: Db;
  clock: Clock;
  users: Users;
  sessions: Sessions;
  sessionPolicy: SessionPolicy;
  loginLimit: LimitPolicy;
  audit: AuditLog;
  alerts: AlertBook;
  incidents: IncidentBook;
  log: Logger;
}

/** The operator behind a guarded route (the guard set the session before the handler runs). */
export const who = (req: { session: { username: string } | null }): string =>
  (req.session as { username: string }).username;
