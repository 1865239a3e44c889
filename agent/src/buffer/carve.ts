import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Reads table records straight out of an SQLite file's pages and its WAL's
 * frames, without SQLite: a quarantined outbox may have its root, interior or
 * schema pages destroyed while the leaf pages holding rows (and the WAL frames
 * of the last commits) are intact, and SQLite cannot reach a leaf through a
 * damaged parent. Every table-leaf page found is parsed, every bound checked;
 * what does not parse is skipped. Records come back as column values, for the
 * caller to check (the outbox's rows carry a checksum): a carved record is
 * never trusted by itself. Read-only: files are opened 'r' and never written.
 */

export type Value = null | number | Buffer | string;

const WAL_MAGIC = new Set([0x377f0682, 0x377f0683]);
const LEAF_TABLE = 0x0d;
/** No outbox row comes near this (envelopes are at most 256 KiB): a larger size is a damaged or hostile cell. */
const MAX_PAYLOAD = 1 << 20;

/** Decides from the columns stored in a cell's own page whether its overflow chain is worth reading. */
export type Skip = (head: Value[]) => boolean;

/**
 * What a carve may spend following overflow chains: a page of hostile cells
 * pointing at one long chain would otherwise read it once per cell (and a
 * cell's copies in the WAL read it again), so the reads are capped by the
 * file's own size; past it only rows whose payload fits their page are read.
 */
interface Chain {
  budget: number;
  skip?: Skip;
}

/**
 * One file's pages. Every copy is read for records (the database's and each WAL
 * frame's: a damaged copy may have an intact other); overflow chains follow the
 * newest copy of each page (the newest WAL frame, else the database's).
 */
class Pages {
  private readonly frames = new Map<number, number>();
  /** Every WAL frame of this WAL generation, in order: [page number, offset of its data]. */
  private readonly allFrames: [number, number][] = [];
  private readonly dbPages: number;

  constructor(
    private readonly db: number | undefined,
    dbSize: number,
    private readonly wal: number | undefined,
    walSize: number,
    readonly size: number,
  ) {
    this.dbPages = Math.floor(dbSize / size);
    if (wal === undefined) return;
    const salt = readAt(wal, 16, 8);
    for (let at = 32; at + 24 + size <= walSize; at += 24 + size) {
      const h = readAt(wal, at, 24);
      if (!h.subarray(8, 16).equals(salt)) continue; // a frame of an older WAL generation
      const page = h.readUInt32BE(0);
      if (page === 0) continue;
      this.frames.set(page, at + 24);
      this.allFrames.push([page, at + 24]);
    }
  }

  /** Every copy of every page: the database's, then each WAL frame's. Read lazily, one page at a time. */
  *copies(): Generator<[number, () => Buffer]> {
    const db = this.db;
    if (db !== undefined)
      for (let n = 1; n <= this.dbPages; n++) yield [n, () => readAt(db, (n - 1) * this.size, this.size)];
    const wal = this.wal;
    if (wal !== undefined) for (const [n, at] of this.allFrames) yield [n, () => readAt(wal, at, this.size)];
  }

  /** How many page copies there are to read (the database's and the WAL's). */
  get count(): number {
    return this.dbPages + this.allFrames.length;
  }

  get(n: number): Buffer | undefined {
    const f = this.frames.get(n);
    if (f !== undefined && this.wal !== undefined) return readAt(this.wal, f, this.size);
    if (this.db === undefined || n < 1 || n > this.dbPages) return undefined;
    return readAt(this.db, (n - 1) * this.size, this.size);
  }
}

function readAt(fd: number, at: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  const got = readSync(fd, b, 0, n, at);
  return got === n ? b : b.subarray(0, got);
}

function tryOpen(path: string): { fd: number; size: number } | undefined {
  try {
    const fd = openSync(path, 'r');
    return { fd, size: fstatSync(fd).size };
  } catch {
    return undefined;
  }
}

/** The page size from the WAL header, else the database header, else SQLite's default. */
function pageSize(db: number | undefined, wal: number | undefined): number {
  const valid = (n: number) => n >= 512 && n <= 65536 && (n & (n - 1)) === 0;
  if (wal !== undefined) {
    const h = readAt(wal, 0, 32);
    if (h.length === 32 && WAL_MAGIC.has(h.readUInt32BE(0)) && valid(h.readUInt32BE(8)))
      return h.readUInt32BE(8);
  }
  if (db !== undefined) {
    const h = readAt(db, 0, 100);
    const raw = h.length >= 18 ? h.readUInt16BE(16) : 0;
    const n = raw === 1 ? 65536 : raw;
    if (valid(n)) return n;
  }
  return 4096;
}

/** Calls `each` with the columns of every record of every table-leaf page of `file` (and `file`-wal). */
export function carveRecords(
  file: string,
  each: (cols: Value[]) => void,
  skip?: Skip,
): { pages: number; bad: number; chained: number } {
  const db = tryOpen(file);
  const wal = tryOpen(`${file}-wal`);
  let pages = 0;
  let bad = 0;
  let chained = 0;
  try {
    const size = pageSize(db?.fd, wal?.fd);
    const p = new Pages(db?.fd, db?.size ?? 0, wal?.fd, wal?.size ?? 0, size);
    const chain: Chain = { budget: 4 * p.count + 1024, skip };
    const budget = chain.budget;
    for (const [n, read] of p.copies()) {
      let page: Buffer;
      try {
        page = read();
      } catch {
        bad++;
        continue;
      }
      if (page.length < size) continue;
      const head = n === 1 ? 100 : 0;
      if (page[head] !== LEAF_TABLE) continue;
      pages++;
      bad += leafCells(page, head, size, (k) => p.get(k), each, chain);
    }
    chained = budget - chain.budget;
  } finally {
    if (db) closeSync(db.fd);
    if (wal) closeSync(wal.fd);
  }
  return { pages, bad, chained };
}

/** Parses the cells of one table-leaf page; returns how many could not be read. */
function leafCells(
  page: Buffer,
  head: number,
  usable: number,
  get: (n: number) => Buffer | undefined,
  each: (cols: Value[]) => void,
  chain: Chain,
): number {
  let bad = 0;
  const cells = page.readUInt16BE(head + 3);
  for (let i = 0; i < cells; i++) {
    try {
      const ptrAt = head + 8 + 2 * i;
      if (ptrAt + 2 > usable) return bad + cells - i;
      const at = page.readUInt16BE(ptrAt);
      const payload = cellPayload(page, at, usable, get, chain);
      if (payload === null) continue;
      const cols = payload && record(payload);
      if (cols) each(cols);
      else bad++;
    } catch {
      bad++;
    }
  }
  return bad;
}

/** The payload of the cell at `at` (the local part plus its overflow chain), undefined when unreadable, null when skipped. */
function cellPayload(
  page: Buffer,
  at: number,
  usable: number,
  get: (n: number) => Buffer | undefined,
  chain: Chain,
): Buffer | undefined | null {
  const [size, a] = varint(page, at);
  const [, b] = varint(page, a); // the rowid
  if (size < 0 || size > MAX_PAYLOAD) return undefined;
  const x = usable - 35;
  const m = Math.floor(((usable - 12) * 32) / 255) - 23;
  const k = m + ((size - m) % (usable - 4));
  const local = size <= x ? size : k <= x ? k : m;
  if (b + local > usable) return undefined;
  const parts = [page.subarray(b, b + local)];
  let left = size - local;
  let next = left > 0 ? page.readUInt32BE(b + local) : 0;
  if (left > 0 && chain.skip?.(record(parts[0], true) ?? [])) return null;
  const seen = new Set<number>();
  while (left > 0) {
    if (next === 0 || seen.has(next) || chain.budget <= 0) return undefined;
    chain.budget--;
    seen.add(next);
    const o = get(next);
    if (!o || o.length < usable) return undefined;
    const take = Math.min(left, usable - 4);
    parts.push(o.subarray(4, 4 + take));
    left -= take;
    next = o.readUInt32BE(0);
  }
  return Buffer.concat(parts);
}

/**
 * Decodes an SQLite record into its column values, or undefined when it does
 * not parse; `partial` (the local part of a cell that overflows) gives the
 * leading columns that fit.
 */
function record(p: Buffer, partial = false): Value[] | undefined {
  const [headerSize, start] = varint(p, 0);
  if (headerSize < start || headerSize > p.length) return partial ? [] : undefined;
  const types: number[] = [];
  for (let at = start; at < headerSize; ) {
    const [t, next] = varint(p, at);
    types.push(t);
    at = next;
  }
  const out: Value[] = [];
  let at = headerSize;
  for (const t of types) {
    const n = t >= 12 ? Math.floor((t - 12) / 2) : [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, -1, -1][t];
    if (n < 0) return undefined;
    if (at + n > p.length) return partial ? out : undefined;
    if (t === 0) out.push(null);
    else if (t === 8 || t === 9) out.push(t - 8);
    else if (t === 7) out.push(p.readDoubleBE(at));
    else if (t === 6) out.push(Number(p.readBigInt64BE(at)));
    else if (t <= 5) out.push(p.readIntBE(at, n));
    else if (t % 2 === 0) out.push(Buffer.from(p.subarray(at, at + n)));
    else out.push(p.subarray(at, at + n).toString('utf8'));
    at += n;
  }
  return out;
}

/** An SQLite varint at `at`: its value and where the next field starts. */
function varint(b: Buffer, at: number): [number, number] {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    if (at + i >= b.length) throw new RangeError('varint past the end');
    const byte = b[at + i];
    if (i === 8) return [v * 256 + byte, at + 9];
    v = v * 128 + (byte & 0x7f);
    if (byte < 0x80) return [v, at + i + 1];
  }
  return [v, at + 9];
}
