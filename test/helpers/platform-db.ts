import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { Db, Queryable } from '../../platform/src/console/index.js';

/** The machine's PostgreSQL (trust auth); CI starts it when it is not running. */
export const PG_ADMIN_URL = process.env.EDGE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDb {
  db: Db;
  /** `postgres://...` of the database, or `pglite:memory`. */
  url: string;
  close(): Promise<void>;
}

/** A fresh PostgreSQL database of its own for one test run, dropped by `close`. */
export async function postgresDb(): Promise<TestDb> {
  const name = `edge_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const db: Db = {
    query: async <R extends object>(sql: string, params: unknown[] = []) =>
      (await pool.query(sql, params)).rows as R[],
    transaction: async <T>(fn: (tx: Queryable) => Promise<T>) => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const out = await fn({
          query: async <R extends object>(sql: string, params: unknown[] = []) =>
            (await c.query(sql, params)).rows as R[],
        });
        await c.query('COMMIT');
        return out;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    },
  };
  return {
    db,
    url,
    close: async () => {
      await pool.end();
      const a = new pg.Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** PGlite in memory: the same SQL, in-process. */
export async function pgliteDb(): Promise<TestDb> {
  const p = await PGlite.create();
  const db: Db = {
    query: async <R extends object>(sql: string, params: unknown[] = []) =>
      (await p.query<R>(sql, params)).rows,
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
      p.transaction((t) =>
        fn({
          query: async <R extends object>(sql: string, params: unknown[] = []) =>
            (await t.query<R>(sql, params)).rows,
        }),
      ),
  };
  return { db, url: 'pglite:memory', close: () => p.close() };
}
