import Database from 'better-sqlite3';
import type { Assessed } from './types.js';

/** The last inventory, kept in the agent's SQLite file `inventory.db`. */
export class InventoryStore {
  private db: Database.Database | undefined;

  constructor(private readonly file: string) {}

  open(): void {
    this.db = new Database(this.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS devices (fingerprint TEXT PRIMARY KEY, json TEXT NOT NULL); CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)',
    );
  }

  close(): void {
    this.db?.close();
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
