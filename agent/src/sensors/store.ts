import Database from 'better-sqlite3';
import { quarantineFile } from '../config/index.js';
import type { Assessed } from './types.js';

/** SQLite's ways of saying the file is not a sound database. */
export function isCorrupt(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/** The last inventory, kept in the agent's SQLite file `inventory.db`. */
export class InventoryStore {
  private db: Database.Database | undefined;

  constructor(private readonly file: string) {}

  /**
   * Opens the file, or, when it is corrupt, moves it aside and starts an empty
   * one: the previous inventory is lost (no change is reported against it), and
   * `onQuarantined` says so.
   */
  open(stamp: number, onQuarantined: (aside: string, reason: string) => void): void {
    try {
      this.openChecked();
    } catch (e) {
      if (!isCorrupt(e)) throw e;
      this.close();
      onQuarantined(quarantineFile(this.file, stamp), (e as Error).message);
      this.openChecked();
    }
  }

  private openChecked(): void {
    this.db = new Database(this.file);
    const check = this.db.pragma('quick_check', { simple: true });
    if (check !== 'ok')
      throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS devices (fingerprint TEXT PRIMARY KEY, json TEXT NOT NULL); CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)',
    );
  }

  close(): void {
    try {
      this.db?.close();
    } catch {
      // Closing a handle on a corrupt file may fail; it is being dropped either way.
    }
    this.db = undefined;
  }

  /** The stored inventory, or null before the first one. */
  load(): Assessed[] | null {
    const db = this.db!;
    if (!db.prepare("SELECT 1 FROM meta WHERE key = 'taken'").get()) return null;
    return db
      .prepare<[], { json: string }>('SELECT json FROM devices')
      .all()
      .map((r) => JSON.parse(r.json) as Assessed);
  }

  save(list: Assessed[]): void {
    const db = this.db!;
    const ins = db.prepare('INSERT OR REPLACE INTO devices (fingerprint, json) VALUES (?, ?)');
    db.transaction(() => {
      db.exec('DELETE FROM devices');
      for (const d of list) ins.run(d.fingerprint, JSON.stringify(d));
      db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('taken', ?)").run(
        new Date().toISOString(),
      );
    })();
  }
}
