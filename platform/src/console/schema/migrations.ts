import { DERIVE } from './derive.js';
import { SOFTWARE } from './software.js';

/**
 * The console's own tables, as numbered steps tracked in `console_migrations` (not the
 * store's `schema_migrations`, whose numbering belongs to the ingest tier). A step never
 * changes once released: a new need is a new step.
 */
export interface ConsoleMigration {
  version: number;
  name: string;
  sql: string;
}

const ACCESS = `
CREATE TABLE console_users (
  username text PRIMARY KEY,
  role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  -- argon2id PHC string ($argon2id$v=19$m=,t=,p=$salt$hash): the parameters travel with the hash, so they can grow.
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  disabled_at timestamptz
);
-- Only a hash of the session token is kept: a read of this table opens no session.
CREATE TABLE console_sessions (
  token_hash bytea PRIMARY KEY,
  username text NOT NULL REFERENCES console_users (username),
  -- What @fastify/csrf-protection makes and checks the session's CSRF tokens with.
  csrf_secret text NOT NULL,
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (username);
CREATE TABLE console_audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL,
  username text NOT NULL,
  action text NOT NULL,
  target text NOT NULL DEFAULT '',
  detail jsonb NOT NULL DEFAULT '{}',
  ip text NOT NULL DEFAULT ''
);
-- Append-only: not even the console's own database role may rewrite what an operator did.
CREATE FUNCTION console_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'console_audit is append-only';
END $$;
CREATE TRIGGER console_audit_no_change BEFORE UPDATE OR DELETE ON console_audit
  FOR EACH ROW EXECUTE FUNCTION console_audit_append_only();
CREATE TRIGGER console_audit_no_truncate BEFORE TRUNCATE ON console_audit
  FOR EACH STATEMENT EXECUTE FUNCTION console_audit_append_only();
`;

const ALERTS_INCIDENTS = `
CREATE TABLE console_incidents (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  title text NOT NULL,
  summary text NOT NULL DEFAULT '',
  -- NIS2 Art. 23 deadlines run from the moment the entity became aware of the incident.
  aware_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  -- ENISA Reference Incident Classification Taxonomy: the class and type predicates.
  rsit_class text NOT NULL,
  rsit_type text NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  early_warning_at timestamptz,
  notification_at timestamptz,
  final_report_at timestamptz
);
CREATE TABLE console_alerts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  device_id text NOT NULL,
  type text NOT NULL,
  subject text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  summary text NOT NULL,
  -- Where it comes from: the signed batch (device, stream, epoch, seq) or the store row.
  evidence jsonb NOT NULL DEFAULT '{}',
  count integer NOT NULL DEFAULT 1,
  first_at timestamptz NOT NULL,
  last_at timestamptz NOT NULL,
  state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'resolved')),
  assignee text,
  note text,
  acknowledged_by text,
  acknowledged_at timestamptz,
  resolved_by text,
  resolved_at timestamptz,
  incident_id bigint REFERENCES console_incidents (id)
);
-- One live alert per device, type and subject: a repeat counts, a resolved one stays as history.
CREATE UNIQUE INDEX console_alerts_live ON console_alerts (device_id, type, subject) WHERE state <> 'resolved';
CREATE INDEX console_alerts_state ON console_alerts (state, last_at);
CREATE INDEX console_alerts_incident ON console_alerts (incident_id);
-- How far the alert sweep has read the store's append-only tables.
CREATE TABLE console_cursors (
  name text PRIMARY KEY,
  value bigint NOT NULL
);
`;

/** A report's posture score, or NULL: a malformed report must not break the fleet page. */
const SCORE = `
CREATE FUNCTION console_report_score(body bytea) RETURNS integer LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (convert_from(body, 'UTF8')::jsonb ->> 'score')::integer;
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$;
`;

/**
 * How many sensors an inventory report judges vulnerable, or NULL when it cannot be read: the
 * fleet counts what the gateway's latest inventory says, as its page does, not open alerts
 * (an acknowledged or resolved alert does not make a sensor's firmware safe).
 */
const VULNERABLE_SENSORS = `
CREATE FUNCTION console_vulnerable_sensors(body bytea) RETURNS integer LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT count(*) FROM jsonb_array_elements(convert_from(body, 'UTF8')::jsonb -> 'devices') d
          WHERE d ->> 'verdict' = 'vulnerable')::integer;
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$;
`;

export const CONSOLE_MIGRATIONS: readonly ConsoleMigration[] = [
  { version: 1, name: 'access', sql: ACCESS },
  { version: 2, name: 'alerts and incidents', sql: ALERTS_INCIDENTS },
  { version: 3, name: 'alerts raised by the store', sql: DERIVE },
  { version: 4, name: 'posture score of a report', sql: SCORE },
  { version: 5, name: 'gateway software', sql: SOFTWARE },
  { version: 6, name: 'vulnerable sensors of an inventory report', sql: VULNERABLE_SENSORS },
];
