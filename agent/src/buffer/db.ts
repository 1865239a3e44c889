import Database from 'better-sqlite3';
import { addRowCrc } from './row-check.js';

export type Db = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chain (stream INTEGER PRIMARY KEY, seq INTEGER NOT NULL, prev_hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY,
  stream INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  created_up INTEGER NOT NULL DEFAULT 0,
  items INTEGER NOT NULL,
  envelope BLOB NOT NULL,
  crc INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_stream_seq ON outbox (stream, seq);
CREATE TABLE IF NOT EXISTS salvaged (
  id INTEGER PRIMARY KEY, stream INTEGER NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,
  created_ms INTEGER NOT NULL, items INTEGER NOT NULL, envelope BLOB NOT NULL, crc INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS salvaged_key ON salvaged (stream, epoch, seq);
CREATE TABLE IF NOT EXISTS salvage_heads (
  id INTEGER PRIMARY KEY, stream INTEGER NOT NULL, epoch INTEGER NOT NULL, head INTEGER NOT NULL,
  UNIQUE (stream, epoch)
);
`;

/** SQLite error codes that mean "this file cannot be trusted". */
const CORRUPT = new Set([
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'SQLITE_CORRUPT_INDEX',
  'SQLITE_CORRUPT_SEQUENCE',
]);

export function isCorruption(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? '';
  return CORRUPT.has(code) || code.startsWith('SQLITE_CORRUPT');
}

/**
 * Opens (or creates) the outbox with the durability DESIGN.md requires and runs
 * a quick integrity check; a corrupt file throws so the caller can quarantine it.
 */
/** PRAGMA auto_vacuum's answer for INCREMENTAL. */
const AUTO_VACUUM_INCREMENTAL = 2;

export function openDb(file: string, walLimitBytes: number): Db {
  const db = new Database(file, { timeout: 5000 });
  try {
    // Only takes effect on a new file: lets eviction hand pages back to a filesystem running out of space.
    // Set only when it differs: setting it again writes the header, and on a full SD card that
    // SQLITE_FULL killed the daemon at every start, the backlog that would free space undelivered.
    if (db.pragma('auto_vacuum', { simple: true }) !== AUTO_VACUUM_INCREMENTAL)
      db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // A small page cache: a gateway has little RAM, and the outbox is read sequentially.
    db.pragma('cache_size = -2000');
    db.pragma(`journal_size_limit = ${Math.floor(walLimitBytes)}`);
    db.pragma(`wal_autocheckpoint = ${Math.max(16, Math.floor(walLimitBytes / 4096))}`);
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok')
      throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
    db.exec(SCHEMA);
    migrate(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Adds `created_up` (the agent's uptime when the row was committed: ages for
 * retention are monotonic) to an outbox made before it. Old rows get 0, which
 * makes them as old as the agent's uptime counted from this version on.
 * Adds the per-row checksum (row-check.ts) the same way.
 */
function migrate(db: Db): void {
  const cols = db.prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?)').all('outbox');
  if (!cols.some((c) => c.name === 'created_up'))
    db.exec('ALTER TABLE outbox ADD COLUMN created_up INTEGER NOT NULL DEFAULT 0');
  addRowCrc(
    db,
    cols.some((c) => c.name === 'crc'),
  );
}

/** Returns free pages and the WAL to the filesystem when it runs short. */
export function giveBackSpace(db: Db, warn: (err: unknown, msg: string) => void): void {
  try {
    db.pragma('incremental_vacuum');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } catch (e) {
    warn(e, 'could not give space back to the filesystem');
  }
}

/**
 * SQLite's quick check through a fresh read-only connection: a writer's page cache
 * would answer from what it read before the file went bad. "ok", or the findings.
 */
export function quickCheckFile(file: string): string {
  let db: Db | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    return String(db.pragma('quick_check', { simple: true }));
  } catch (e) {
    if (isCorruption(e)) return String((e as Error).message);
    throw e;
  } finally {
    db?.close();
  }
}
