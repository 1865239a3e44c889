/**
 * The schema, as numbered steps. A step never changes once released: a new need is
 * a new step. `migrate` applies the missing ones in order, each in its transaction.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const INITIAL = `
-- Registry: devices and the keys their batches are signed with.
CREATE TABLE devices (
  device_id text PRIMARY KEY,
  site text,
  lat double precision,
  lon double precision,
  groups text[] NOT NULL DEFAULT '{}',
  cert_fingerprint text,
  cert_expires_at timestamptz,
  added_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE TABLE device_keys (
  key_id text PRIMARY KEY,
  device_id text NOT NULL REFERENCES devices (device_id),
  public_key bytea NOT NULL,
  -- Judged against the batch's sealing time: a batch buffered offline stays valid.
  valid_from timestamptz,
  valid_until timestamptz,
  revoked_at timestamptz,
  revoked_reason text
);
CREATE INDEX device_keys_device ON device_keys (device_id);

-- Signed evidence: every batch exactly once, as it arrived.
CREATE TABLE batches (
  device_id text NOT NULL,
  stream smallint NOT NULL,
  epoch bigint NOT NULL,
  seq bigint NOT NULL,
  payload_hash bytea NOT NULL,
  prev_hash bytea NOT NULL,
  key_id text NOT NULL,
  created_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  readings integer NOT NULL,
  events integer NOT NULL,
  envelope bytea NOT NULL,
  arrival bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (device_id, stream, epoch, seq)
);
CREATE INDEX batches_received ON batches (received_at);

-- One row per chain, locked (SELECT ... FOR UPDATE) by whichever collector stores its batches.
CREATE TABLE chains (
  device_id text NOT NULL,
  stream smallint NOT NULL,
  epoch bigint NOT NULL,
  contiguous bigint NOT NULL DEFAULT 0,
  highest bigint NOT NULL DEFAULT 0,
  batches bigint NOT NULL DEFAULT 0,
  explained bigint NOT NULL DEFAULT 0,
  duplicates bigint NOT NULL DEFAULT 0,
  conflicts bigint NOT NULL DEFAULT 0,
  prev_hash_mismatches bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, stream, epoch)
);
CREATE TABLE evictions (
  device_id text NOT NULL,
  stream smallint NOT NULL,
  epoch bigint NOT NULL,
  from_seq bigint NOT NULL,
  to_seq bigint NOT NULL,
  reason text NOT NULL DEFAULT '',
  PRIMARY KEY (device_id, stream, epoch, from_seq, to_seq)
);
CREATE TABLE alerts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  device_id text,
  kind text NOT NULL,
  detail text NOT NULL
);
CREATE INDEX alerts_device ON alerts (device_id, at);

-- What the batches carry, queryable.
CREATE TABLE readings (
  device_id text NOT NULL,
  sensor_id text NOT NULL,
  ts timestamptz NOT NULL,
  unit text NOT NULL,
  kind text NOT NULL,
  num double precision,
  txt text,
  flag boolean,
  labels jsonb NOT NULL,
  epoch bigint NOT NULL,
  seq bigint NOT NULL
);
CREATE INDEX readings_sensor_ts ON readings (device_id, sensor_id, ts);
CREATE INDEX readings_ts ON readings (ts);
CREATE TABLE security_events (
  device_id text NOT NULL,
  ts timestamptz NOT NULL,
  type text NOT NULL,
  severity smallint NOT NULL,
  subject text NOT NULL,
  details jsonb NOT NULL,
  count integer,
  epoch bigint NOT NULL,
  seq bigint NOT NULL
);
CREATE INDEX security_events_device_ts ON security_events (device_id, ts);
CREATE TABLE reports (
  device_id text NOT NULL,
  kind text NOT NULL,
  created_at timestamptz NOT NULL,
  content_type text NOT NULL,
  body bytea NOT NULL,
  epoch bigint NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (device_id, kind, epoch, seq)
);
CREATE TABLE latest_reports (
  device_id text NOT NULL,
  kind text NOT NULL,
  created_at timestamptz NOT NULL,
  content_type text NOT NULL,
  body bytea NOT NULL,
  epoch bigint NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (device_id, kind)
);
CREATE TABLE device_status (
  device_id text PRIMARY KEY,
  state text NOT NULL,
  agent_version text,
  config_version bigint,
  raw jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE settings (
  key text PRIMARY KEY,
  value bigint NOT NULL
);
INSERT INTO settings VALUES ('readings_retention_days', 400), ('batches_retention_days', 90),
  ('events_retention_days', 730);

-- Chain health at a glance: seqs neither stored nor explained by an eviction notice are missing.
CREATE VIEW chain_health AS
SELECT device_id, stream, epoch, contiguous, highest, batches, explained,
       GREATEST(highest - batches - explained, 0) AS missing,
       duplicates, conflicts, prev_hash_mismatches, updated_at
FROM chains;
`;

export const MIGRATIONS: readonly Migration[] = [{ version: 1, name: 'initial', sql: INITIAL }];
