import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { StoreError } from './errors.js';

/** Something SQL can be sent to: the engine itself, or one open transaction. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

/**
 * One SQL dialect (PostgreSQL's), two engines: a PostgreSQL server through `pg`,
 * or PGlite in-process. Everything above this file sees only this interface.
 */
export interface Engine extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Several statements at once (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` in one transaction: COMMIT when it resolves, ROLLBACK when it throws.
   * `timeoutMs` replaces the query timeout inside it (migrations, retention deletes).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, opts?: { timeoutMs?: number }): Promise<T>;
  /** LISTEN on a channel (a lowercase name) until the returned function is called. */
  listen(channel: string, fn: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/** int8 as a JS number (every count and seq here stays below 2^53; the codec refuses more). */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/** Connection limits for PostgreSQL (milliseconds); PGlite runs in-process and needs none. */
export interface PgLimits {
  /**
   * Longest one statement may take: the server cancels it (`statement_timeout`), and the client
   * gives up on the connection a little later if no answer comes at all (`query_timeout`: a server
   * that stays connected but stops answering). Default 15000.
   */
  queryTimeoutMs?: number;
  /** Longest to open a connection, TCP and login included. Default 5000. */
  connectTimeoutMs?: number;
  /** TCP keepalive probes start after this much silence on a connection. Default 10000. */
  keepAliveDelayMs?: number;
}

export const PG_DEFAULTS: Required<PgLimits> = {
  queryTimeoutMs: 15_000,
  connectTimeoutMs: 5_000,
  keepAliveDelayMs: 10_000,
};

/** The client waits this much beyond statement_timeout, so a live server's cancel error wins. */
const CLIENT_GRACE_MS = 2_000;

/** A connection that timed out or broke: no ROLLBACK can get through it, it is dropped. */
const broken = (e: unknown): boolean =>
  e instanceof Error &&
  (/^Query read timeout$|^Connection terminated|timeout exceeded when trying to connect/.test(e.message) ||
    'errno' in e);

class PostgresEngine implements Engine {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;

  constructor(url: string, onError: (e: Error) => void, max: number, limits: PgLimits) {
    const l = { ...PG_DEFAULTS, ...limits };
    this.pool = new pg.Pool({
      connectionString: url,
      max,
      types: pgTypes,
      connectionTimeoutMillis: l.connectTimeoutMs,
      // Server side: a statement, or a transaction left open by a client that went silent
      // (holding chain row locks other collectors wait for), ends after the timeout.
      statement_timeout: l.queryTimeoutMs,
      idle_in_transaction_session_timeout: l.queryTimeoutMs,
      // Client side: a server (or a path to it) that holds the connection open but never answers.
      query_timeout: l.queryTimeoutMs + CLIENT_GRACE_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: l.keepAliveDelayMs,
    });
    // An idle connection dropped by the server must not end the process; the next query reconnects.
    this.pool.on('error', onError);
  }

  async query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query(sql, params)).rows as R[];
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>, opts: { timeoutMs?: number } = {}): Promise<T> {
    const client = await this.pool.connect();
    const t = opts.timeoutMs;
    const limit = t === undefined ? {} : { query_timeout: t + CLIENT_GRACE_MS };
    const tx: Queryable = {
      query: async <R extends object>(sql: string, values: unknown[] = []) =>
        (await client.query({ text: sql, values, ...limit })).rows as R[],
    };
    try {
      await client.query('BEGIN');
      if (t !== undefined) {
        const ms = Math.max(1, Math.round(t));
        await client.query(`SET LOCAL statement_timeout = ${ms}`);
        await client.query(`SET LOCAL idle_in_transaction_session_timeout = ${ms}`);
      }
      const out = await fn(tx);
      await client.query('COMMIT');
      client.release();
      return out;
    } catch (e) {
      // A ROLLBACK on a connection that timed out would only wait for its own timeout.
      if (!broken(e)) await client.query('ROLLBACK').catch(() => undefined);
      // A connection that failed mid-transaction may be broken: never hand it out again.
      client.release(true);
      throw e;
    }
  }

  /** Holds one pool connection for as long as it listens (NOTIFY reaches only that session). */
  async listen(channel: string, fn: (payload: string) => void): Promise<() => Promise<void>> {
    if (!CHANNEL.test(channel))
      throw new StoreError('BAD_CHANNEL', `channel "${channel}": lowercase letters, digits, _`);
    const client = await this.pool.connect();
    client.on('notification', (m) => {
      if (m.channel === channel) fn(m.payload ?? '');
    });
    await client.query(`LISTEN ${channel}`);
    return async () => {
      await client.query(`UNLISTEN ${channel}`).catch(() => undefined);
      client.release();
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

class PgliteEngine implements Engine {
  readonly kind = 'pglite';
  constructor(private readonly db: PGlite) {}

  async query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.db.query<R>(sql, params)).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    // In-process: nothing between client and server can hang, no timeout applies.
    return this.db.transaction((t) =>
      fn({
        query: async <R extends object>(sql: string, params: unknown[] = []) =>
          (await t.query<R>(sql, params)).rows,
      }),
    );
  }

  async listen(channel: string, fn: (payload: string) => void): Promise<() => Promise<void>> {
    if (!CHANNEL.test(channel))
      throw new StoreError('BAD_CHANNEL', `channel "${channel}": lowercase letters, digits, _`);
    return this.db.listen(channel, fn);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

export interface OpenOptions extends PgLimits {
  /** Errors of idle PostgreSQL connections (the server went away); logged, never thrown. */
  onError?: (e: Error) => void;
  /** PostgreSQL connections in the pool. */
  poolSize?: number;
}

/** `postgres://USER@HOST[:PORT]/DB` (or postgresql://), `pglite:DIR`, or `pglite:memory` for tests. */
export async function openEngine(url: string, opts: OpenOptions = {}): Promise<Engine> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const e = new PostgresEngine(url, opts.onError ?? (() => undefined), opts.poolSize ?? 4, opts);
    try {
      await e.query('SELECT 1');
    } catch (err) {
      await e.close().catch(() => undefined);
      throw new StoreError('STORE_UNAVAILABLE', `${redact(url)}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return e;
  }
  if (url.startsWith('pglite:')) {
    const dir = url.slice('pglite:'.length);
    if (dir === '') throw new StoreError('BAD_STORE_URL', '--store pglite: needs a folder (pglite:DIR)');
    try {
      return new PgliteEngine(await PGlite.create(dir === 'memory' ? undefined : dir));
    } catch (err) {
      throw new StoreError('STORE_UNAVAILABLE', `${url}: ${(err as Error).message}`, { cause: err });
    }
  }
  throw new StoreError(
    'BAD_STORE_URL',
    `--store: "${redact(url)}" is neither postgres://USER@HOST/DB nor pglite:DIR`,
  );
}

/** A store URL without its password, for messages and logs. */
export function redact(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@]*@/, '$1:***@');
}
