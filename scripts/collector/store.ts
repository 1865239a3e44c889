import Database from 'better-sqlite3';

/** The collector's durable store: each batch exactly once, keyed by (device, stream, epoch, seq). */
export class CollectorStore {
  readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS batches (
        device TEXT NOT NULL, stream INTEGER NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,
        payload_hash BLOB NOT NULL, prev_hash BLOB NOT NULL, key_id TEXT NOT NULL, readings INTEGER NOT NULL,
        events INTEGER NOT NULL, envelope BLOB NOT NULL, received_ms INTEGER NOT NULL, arrival INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (device, stream, epoch, seq)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS chains (
        device TEXT NOT NULL, stream INTEGER NOT NULL, epoch INTEGER NOT NULL, contiguous INTEGER NOT NULL,
        PRIMARY KEY (device, stream, epoch)
      );
      CREATE TABLE IF NOT EXISTS evictions (
        device TEXT NOT NULL, stream INTEGER NOT NULL, epoch INTEGER NOT NULL, from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL, reason TEXT
      );
      CREATE TABLE IF NOT EXISTS alerts (at_ms INTEGER NOT NULL, device TEXT, kind TEXT NOT NULL, detail TEXT);
      CREATE TABLE IF NOT EXISTS devices (device TEXT PRIMARY KEY, status TEXT, updated_ms INTEGER);
    `);
  }

  hashOf(
    device: string,
    stream: number,
    epoch: number,
    seq: number,
  ): { hash: Uint8Array; prev: Uint8Array } | undefined {
    const r = this.db
      .prepare<[string, number, number, number], { payload_hash: Buffer; prev_hash: Buffer }>(
        'SELECT payload_hash, prev_hash FROM batches WHERE device = ? AND stream = ? AND epoch = ? AND seq = ?',
      )
      .get(device, stream, epoch, seq);
    return r ? { hash: r.payload_hash, prev: r.prev_hash } : undefined;
  }

  chains(): { device: string; stream: number; epoch: number; contiguous: number }[] {
    return this.db
      .prepare<[], { device: string; stream: number; epoch: number; contiguous: number }>(
        'SELECT * FROM chains',
      )
      .all();
  }

  /** Readings stored per device (for summaries and tests). */
  totals(): { batches: number; readings: number; events: number } {
    return this.db
      .prepare<[], { batches: number; readings: number | null; events: number | null }>(
        'SELECT count(*) AS batches, sum(readings) AS readings, sum(events) AS events FROM batches',
      )
      .get() as { batches: number; readings: number; events: number };
  }

  close(): void {
    this.db.close();
  }
}
