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
  -- scrypt$N$r$p$salt$hash (base64): the parameters travel with the hash, so they can grow.
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  disabled_at timestamptz
);
-- Only a hash of the session token is kept: a read of this table opens no session.
CREATE TABLE console_sessions (
  token_hash bytea PRIMARY KEY,
  username text NOT NULL REFERENCES console_users (username),
  csrf_token text NOT NULL,
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

export const CONSOLE_MIGRATIONS: readonly ConsoleMigration[] = [{ version: 1, name: 'access', sql: ACCESS }];
