import { type Engine, Store } from '../../platform/src/store/index.js';
import { tempDatabase } from '../../scripts/lib/pg-temp.js';

export interface TestDb {
  /** The store's URL, for a collector process on the same database. */
  url: string;
  store: Store;
  db: Engine;
  close(): Promise<void>;
}

/**
 * The platform's real store, migrated: on the machine's PostgreSQL (a database of its own,
 * dropped by `close`) or on PGlite in memory.
 */
export async function testStore(kind: 'postgres' | 'pglite'): Promise<TestDb> {
  const pg = kind === 'postgres' ? await tempDatabase('edge_console') : undefined;
  const url = pg?.url ?? 'pglite:memory';
  const store = new Store({ url });
  try {
    await store.start();
  } catch (e) {
    await pg?.drop();
    throw e;
  }
  return {
    url,
    store,
    db: store.db,
    close: async () => {
      await store.stop();
      await pg?.drop();
    },
  };
}

export const postgresDb = (): Promise<TestDb> => testStore('postgres');
export const pgliteDb = (): Promise<TestDb> => testStore('pglite');
