import type { Engine, OpenOptions, Queryable } from './engine.js';
import { openEngine, redact } from './engine.js';
import { StoreError } from './errors.js';
import { ingest } from './ingest.js';
import { MIGRATIONS } from './migrations.js';
import { allKeys, listDevices, revoke, upsertDevice } from './registry.js';
import {
  type DeviceInput,
  type DeviceKeyRow,
  type DeviceRow,
  type IngestItem,
  type IngestResult,
  SETTINGS,
  type SettingName,
} from './types.js';

export interface StoreOptions extends OpenOptions {
  /** `postgres://USER@HOST/DB` or `pglite:DIR`. */
  url: string;
  /** Apply missing migrations at start (default); otherwise refuse a schema that is behind. */
  migrate?: boolean;
  /** Without `migrate`: refuse a schema that is behind (default), or open it as it is (the migrate command). */
  check?: boolean;
}

/** Several processes may start at once: one migrates, the others wait on this lock. */
const MIGRATION_LOCK = 0x65646765;
/** Migrations and retention deletes on a large database outlast the query timeout by far. */
const MAINTENANCE_TIMEOUT_MS = 30 * 60_000;

/** The platform's store: one schema, on PostgreSQL or PGlite. */
export class Store {
  private engine: Engine | undefined;

  constructor(private readonly opts: StoreOptions) {}

  async start(): Promise<void> {
    this.engine = await openEngine(this.opts.url, this.opts);
    try {
      if (this.opts.migrate ?? true) await this.migrate();
      else if (this.opts.check ?? true) {
        const v = await this.schemaVersion();
        const latest = MIGRATIONS[MIGRATIONS.length - 1].version;
        if (v < latest)
          throw new StoreError(
            'SCHEMA_NOT_MIGRATED',
            `${redact(this.opts.url)} is at schema ${v}, this version needs ${latest}: run edge-platform migrate`,
          );
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    const e = this.engine;
    this.engine = undefined;
    await e?.close();
  }

  get kind(): Engine['kind'] {
    return this.db.kind;
  }

  /** The engine, for queries the store has no method for (reports, tests, the console). */
  get db(): Engine {
    if (!this.engine) throw new StoreError('STORE_UNAVAILABLE', 'the store is not started');
    return this.engine;
  }

  async schemaVersion(): Promise<number> {
    const [t] = await this.db.query<{ t: string | null }>(
      "SELECT to_regclass('schema_migrations')::text AS t",
    );
    if (!t.t) return 0;
    const [r] = await this.db.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    return Number(r.v ?? 0);
  }

  /** Applies the missing migrations in order; returns the versions applied. */
  async migrate(): Promise<{ applied: number[]; version: number }> {
    const applied: number[] = [];
    await this.db.transaction(
      async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        await tx.query(
          `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now())`,
        );
        const done = new Set(
          (await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map(
            (r) => r.version,
          ),
        );
        const newest = Math.max(0, ...done);
        const latest = MIGRATIONS[MIGRATIONS.length - 1].version;
        if (newest > latest)
          throw new StoreError(
            'SCHEMA_TOO_NEW',
            `the store is at schema ${newest}, newer than this version knows (${latest})`,
          );
        for (const m of MIGRATIONS) {
          if (done.has(m.version)) continue;
          await execIn(tx, m.sql).catch((e: Error) => {
            throw new StoreError('MIGRATION_FAILED', `migration ${m.version} (${m.name}): ${e.message}`, {
              cause: e,
            });
          });
          await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
            m.version,
            m.name,
          ]);
          applied.push(m.version);
        }
      },
      { timeoutMs: MAINTENANCE_TIMEOUT_MS },
    );
    return { applied, version: await this.schemaVersion() };
  }

  ingest(items: IngestItem[]): Promise<IngestResult> {
    return ingest(this.db, items);
  }

  /** Adds devices (and keys) in one transaction: all or nothing. */
  async addDevices(list: DeviceInput[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const d of list) await upsertDevice(tx, d);
    });
  }

  revoke(deviceId: string, keyId: string | undefined, reason: string): Promise<number> {
    return revoke(this.db, deviceId, keyId, reason);
  }

  keys(): Promise<DeviceKeyRow[]> {
    return allKeys(this.db);
  }

  devices(): Promise<DeviceRow[]> {
    return listDevices(this.db);
  }

  async alert(deviceId: string | null, kind: string, detail: string): Promise<void> {
    await this.db.query('INSERT INTO alerts (device_id, kind, detail) VALUES ($1, $2, $3)', [
      deviceId,
      kind,
      detail,
    ]);
  }

  /** The retained `status` message of a device: online, offline (goodbye or last will), versions. */
  async recordStatus(deviceId: string, status: Record<string, unknown>): Promise<void> {
    const cv = Number(status.configVersion);
    await this.db.query(
      `INSERT INTO device_status (device_id, state, agent_version, config_version, raw, updated_at)
       VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (device_id) DO UPDATE SET state = EXCLUDED.state, agent_version = EXCLUDED.agent_version,
         config_version = EXCLUDED.config_version, raw = EXCLUDED.raw, updated_at = now()`,
      [
        deviceId,
        String(status.state ?? 'unknown'),
        typeof status.version === 'string' ? status.version : null,
        Number.isSafeInteger(cv) ? cv : null,
        JSON.stringify(status).replaceAll('\\u0000', '\\ufffd'),
      ],
    );
  }

  async settings(): Promise<Record<SettingName, number>> {
    const rows = await this.db.query<{ key: SettingName; value: number }>('SELECT key, value FROM settings');
    return Object.fromEntries(rows.map((r) => [r.key, Number(r.value)])) as Record<SettingName, number>;
  }

  async setSetting(key: string, value: number): Promise<void> {
    if (!(SETTINGS as readonly string[]).includes(key))
      throw new StoreError('BAD_SETTING', `${key}: not a setting (one of ${SETTINGS.join(', ')})`);
    if (!Number.isSafeInteger(value) || value < 1)
      throw new StoreError('BAD_SETTING', `${key}: must be a whole number of days, at least 1`);
    await this.db.query('UPDATE settings SET value = $2 WHERE key = $1', [key, value]);
  }

  /**
   * Deletes what is older than its retention. Batches go by arrival time; chain rows stay,
   * so a resend of a pruned batch is still recognised as a duplicate (below the contiguous mark).
   */
  async prune(nowMs: number): Promise<{ readings: number; events: number; batches: number }> {
    const s = await this.settings();
    const del = (table: string, column: string, days: number) =>
      this.db.transaction(
        async (tx) =>
          (
            await tx.query<{ n: number }>(
              `WITH d AS (DELETE FROM ${table} WHERE ${column} < to_timestamp($1 / 1000.0) RETURNING 1) SELECT count(*)::int AS n FROM d`,
              [nowMs - days * 86_400_000],
            )
          )[0],
        { timeoutMs: MAINTENANCE_TIMEOUT_MS },
      );
    return {
      readings: (await del('readings', 'ts', s.readings_retention_days)).n,
      events: (await del('security_events', 'ts', s.events_retention_days)).n,
      batches: (await del('batches', 'received_at', s.batches_retention_days)).n,
    };
  }
}

/** Runs a multi-statement migration inside an open transaction (one statement at a time). */
async function execIn(tx: Queryable, sql: string): Promise<void> {
  const statements = sql
    .replace(/--[^\n]*/g, '')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of statements) await tx.query(s);
}
