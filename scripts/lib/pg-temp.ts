import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The machine's PostgreSQL (CI starts one when none runs); each run gets its own database. */
export const PG_SERVER = process.env.EDGE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Creates a fresh database; `drop` ends every session on it and removes it. */
export async function tempDatabase(label = 'edge_test'): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: PG_SERVER });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = PG_SERVER.replace(/\/[^/]*$/, `/${name}`);
  return { url, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
