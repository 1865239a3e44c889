import { crc32 } from 'node:zlib';
import type Database from 'better-sqlite3';
import type { Stream } from '../core/index.js';
import type { EvictionRange } from './eviction.js';

type Db = Database.Database;

/**
 * Per-row checksums. SQLite's `quick_check` proves the b-trees are sound, not
 * that a row's bytes are the ones committed: a flipped bit inside an envelope
 * passes it, and the row is then sent, refused by the collector for its
 * signature, and lost without a word. Each row carries a CRC-32 of what
 * identifies it and what it carries; every open checks them all and sets the
 * damaged rows aside (reported as an exact range, reason `corrupt`).
 */

interface RowBytes {
  stream: number;
  epoch: number;
  seq: number;
  items: number;
  envelope: Uint8Array;
}

const HEAD = new DataView(new ArrayBuffer(32));
const HEAD_BYTES = new Uint8Array(HEAD.buffer);

/** The checksum stored with a row: stream, epoch, seq, items and the envelope. */
export function rowCrc(r: RowBytes): number {
  // One head reused: called once per row appended, always synchronously.
  HEAD.setFloat64(0, r.stream, true);
  HEAD.setFloat64(8, r.epoch, true);
  HEAD.setFloat64(16, r.seq, true);
  HEAD.setFloat64(24, r.items, true);
  return crc32(r.envelope, crc32(HEAD_BYTES));
}

/**
 * Adds the `crc` column to an outbox made before it. Rows up to the newest id
 * then have none and are not checked; every later row must have one.
 */
export function addRowCrc(db: Db, hasColumn: boolean): void {
  if (hasColumn) return;
  db.transaction(() => {
    db.exec('ALTER TABLE outbox ADD COLUMN crc INTEGER');
    const last = db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM outbox').get()?.id ?? 0;
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('crc_from_id', ?)").run(String(last));
  })();
}

const QUARANTINE_TABLE = `CREATE TABLE IF NOT EXISTS outbox_quarantined (
  id INTEGER PRIMARY KEY, stream INTEGER, epoch INTEGER, seq INTEGER, created_ms INTEGER,
  created_up INTEGER, items INTEGER, envelope BLOB, crc INTEGER, found_ms INTEGER NOT NULL)`;

/**
 * Checks every row against its checksum, reading the table itself (not the index).
 * Damaged rows move to `outbox_quarantined` (kept for forensics, never sent) and
 * come back as ranges to report; an index that disagrees with the table is rebuilt.
 */
export function setAsideDamagedRows(
  db: Db,
  nowMs: number,
  log: (obj: Record<string, unknown>, msg: string) => void,
): EvictionRange[] {
  const from = Number(
    db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'crc_from_id'").get()?.value ?? 0,
  );
  const damaged: { id: number; stream: number; seq: number }[] = [];
  const scan = db.prepare<[], RowBytes & { id: number; crc: number | null }>(
    'SELECT id, stream, epoch, seq, items, envelope, crc FROM outbox NOT INDEXED',
  );
  for (const r of scan.iterate()) if (!intact(r, from)) damaged.push(r);
  if (damaged.length > 0) {
    // The index keeps its own copy of (stream, seq): it names the row when the table's copy is what rotted.
    const named = db.prepare<[number], { stream: number; seq: number }>(
      'SELECT stream, seq FROM outbox INDEXED BY outbox_stream_seq WHERE id = ?',
    );
    db.exec(QUARANTINE_TABLE);
    const move = db.prepare(
      'INSERT INTO outbox_quarantined SELECT id, stream, epoch, seq, created_ms, created_up, items, envelope, crc, ? FROM outbox WHERE id = ?',
    );
    const del = db.prepare('DELETE FROM outbox WHERE id = ?');
    db.transaction(() => {
      for (const d of damaged) {
        Object.assign(d, named.get(d.id) ?? {});
        move.run(nowMs, d.id);
        del.run(d.id);
      }
    })();
    log({ rows: damaged.length }, 'outbox rows fail their checksum: set aside, reporting them lost');
  }
  if (!indexAgrees(db)) {
    log({}, 'the outbox index disagrees with its table: rebuilding it');
    db.exec('REINDEX outbox_stream_seq');
  }
  return ranges(damaged);
}

function intact(r: RowBytes & { id: number; crc: number | null }, uncheckedUpTo: number): boolean {
  if (r.crc === null) return r.id <= uncheckedUpTo;
  try {
    return Buffer.isBuffer(r.envelope) && rowCrc(r) === r.crc;
  } catch {
    return false; // a column whose type rotted (text where a number was)
  }
}

/** Count and sums of (id, stream, seq) read through the index and through the table. */
function indexAgrees(db: Db): boolean {
  const sums = 'SELECT count(*) AS n, total(id) AS i, total(stream) AS s, total(seq) AS q FROM outbox';
  const a = db.prepare(`${sums} INDEXED BY outbox_stream_seq WHERE stream > -1`).get();
  const b = db.prepare(`${sums} NOT INDEXED`).get();
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Consecutive seqs of a stream become one range. */
function ranges(rows: { stream: number; seq: number }[]): EvictionRange[] {
  const out: EvictionRange[] = [];
  const sorted = [...rows].sort((x, y) => x.stream - y.stream || x.seq - y.seq);
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && last.stream === r.stream && last.toSeq + 1 === r.seq) {
      last.toSeq = r.seq;
      last.rows++;
    } else
      out.push({
        stream: r.stream as Stream,
        fromSeq: r.seq,
        toSeq: r.seq,
        rows: 1,
        items: 0,
        reason: 'corrupt',
      });
  }
  return out;
}
