import type { Logger } from 'pino';
import type { AuditLog, LoginLimiter, SessionPolicy, Sessions, Users } from '../access/index.js';
import type { AlertBook } from '../alerts/index.js';
import type { IncidentBook } from '../incidents/index.js';
import type { Clock, Db } from '../types.js';

/** What the route handlers share: the store and the access services over it. */
export interface ApiContext {
  db: Db;
  clock: Clock;
  users: Users;
  sessions: Sessions;
  sessionPolicy: SessionPolicy;
  audit: AuditLog;
  limiter: LoginLimiter;
  alerts: AlertBook;
  incidents: IncidentBook;
  log: Logger;
}
