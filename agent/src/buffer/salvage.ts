import type { Stream } from '../core/index.js';
import { carveRecords, type Value } from './carve.js';
import type { EvictionRange } from './eviction.js';
import { rowCrc } from './row-check.js';

/** A row read back from a quarantined file, intact by its checksum: its sealed envelope can still be delivered. */
export interface SalvagedRow {
  stream: Stream;
  epoch: number;
  seq: number;
  createdMs: number;
  items: number;
  envelope: Buffer;
  crc: number;
}

/** Seqs of one stream and epoch that were unsent when the file went bad: what a salvage looks for. */
export interface WantedRange {
  stream: Stream;
  epoch: number;
  fromSeq: number;
  toSeq: number;
}

/** Wanted seqs tracked in one salvage, at most (32 MB): far above what an outbox's byte budget can hold unsent. */
const MAX_TRACKED = 1 << 25;

type Log = (obj: Record<string, unknown>, msg: string) => void;

/**
 * Where a row's fields sit in a carved record: the outbox as created today, an
 * outbox migrated from before `created_up` (added after the envelope), and the
 * `salvaged` table (rows of older epochs an earlier salvage kept). Column 0 is
 * the INTEGER PRIMARY KEY, stored as NULL.
 */
const LAYOUTS = [
  { cols: 9, stream: 1, epoch: 2, seq: 3, created: 4, items: 6, envelope: 7, crc: 8 },
  { cols: 9, stream: 1, epoch: 2, seq: 3, created: 4, items: 5, envelope: 6, crc: 8 },
  { cols: 8, stream: 1, epoch: 2, seq: 3, created: 4, items: 5, envelope: 6, crc: 7 },
];

/**
 * Reads what can still be read of a quarantined outbox (`file` and its WAL),
 * read-only: every row of the wanted ranges found in a table-leaf page of the
 * file or a frame of its WAL (carve.ts) that passes its checksum. Nothing of
 * SQLite's own structure needs to be sound. Rows go to `keep` in chunks of
 * 256 (so memory stays bounded however much the file held); without it they
 * come back in seq order. Also returns the wanted seqs not found, as exact
 * ranges (reason `corrupt`), each in its epoch.
 */
export function salvage(
  file: string,
  wanted: WantedRange[],
  log: Log,
  keep?: (rows: SalvagedRow[]) => void,
): { rows: SalvagedRow[]; lost: (EvictionRange & { epoch: number })[] } {
  // One byte a wanted seq: a million unsent rows cost 1 MB to track, not their envelopes. Past what fits (a
  // damaged table or journal may claim any seqs) the seqs are not looked for: they are lost whole, by exact range.
  let room = MAX_TRACKED;
  const seen = wanted.map((w) => {
    const n = Math.min(room, Math.max(0, w.toSeq - w.fromSeq + 1));
    room -= n;
    return new Uint8Array(n);
  });
  const track = (r: { stream: number; epoch: number; seq: number }) =>
    wanted.findIndex((w, i) => inRange(w, r) && r.seq - w.fromSeq < seen[i].length);
  const out: SalvagedRow[] = [];
  let chunk: SalvagedRow[] = [];
  let count = 0;
  const flush = () => {
    if (keep && chunk.length > 0) keep(chunk);
    chunk = [];
  };
  if (wanted.length > 0) {
    try {
      const { pages, bad } = carveRecords(
        file,
        (cols) => {
          const row = intact(cols);
          const i = row ? track(row) : -1;
          if (!row || i < 0 || seen[i][row.seq - wanted[i].fromSeq]) return;
          seen[i][row.seq - wanted[i].fromSeq] = 1;
          count++;
          if (!keep) out.push(row);
          else if (chunk.push(row) >= 256) flush();
        },
        // A row not wanted, or found already (in another copy of its page), needs no overflow chain read.
        (head) => {
          const [, stream, epoch, seq] = head;
          if (typeof stream !== 'number' || typeof epoch !== 'number' || typeof seq !== 'number')
            return false;
          const i = track({ stream, epoch, seq });
          return i < 0 || seen[i][seq - wanted[i].fromSeq] === 1;
        },
      );
      flush();
      log({ file, pages, unreadableCells: bad, rows: count }, 'salvage: read the quarantined outbox');
    } catch (e) {
      flush();
      log(
        { err: String(e), file },
        'salvage: the quarantined outbox cannot be read (all of it or from some point): what was not read is lost',
      );
    }
  }
  out.sort((a, b) => a.stream - b.stream || a.epoch - b.epoch || a.seq - b.seq);
  return { rows: out, lost: missing(wanted, seen) };
}

/** The row a record holds if some layout fits it and its checksum matches; undefined for anything else. */
function intact(cols: Value[]): SalvagedRow | undefined {
  for (const l of LAYOUTS) {
    if (cols.length !== l.cols) continue;
    const ints = [l.stream, l.epoch, l.seq, l.created, l.items, l.crc].map((i) => cols[i]);
    const envelope = cols[l.envelope];
    if (!ints.every((v) => typeof v === 'number' && Number.isSafeInteger(v)) || !Buffer.isBuffer(envelope))
      continue;
    const [stream, epoch, seq, createdMs, items, crc] = ints as number[];
    const row = { stream: stream as Stream, epoch, seq, createdMs, items, envelope, crc };
    if (rowCrc(row) === crc) return row;
  }
  return undefined;
}

const inRange = (w: WantedRange, r: { stream: number; epoch: number; seq: number }): boolean =>
  w.stream === r.stream && w.epoch === r.epoch && w.fromSeq <= r.seq && r.seq <= w.toSeq;

/** The wanted seqs not found, as runs of consecutive seqs. */
function missing(wanted: WantedRange[], seen: Uint8Array[]): (EvictionRange & { epoch: number })[] {
  const out: (EvictionRange & { epoch: number })[] = [];
  for (const [i, w] of wanted.entries()) {
    const bits = seen[i];
    let run: (EvictionRange & { epoch: number }) | undefined;
    for (let q = w.fromSeq; q <= w.toSeq; q++) {
      if (q - w.fromSeq >= bits.length) {
        // Not tracked: the rest of the range at once, extending a run that reaches it.
        const rest = w.toSeq - q + 1;
        if (run) Object.assign(run, { toSeq: w.toSeq, rows: run.rows + rest });
        else out.push({ ...w, fromSeq: q, rows: rest, items: 0, reason: 'corrupt' });
        break;
      }
      if (bits[q - w.fromSeq]) {
        run = undefined;
        continue;
      }
      if (run) {
        run.toSeq = q;
        run.rows++;
        continue;
      }
      run = { stream: w.stream, epoch: w.epoch, fromSeq: q, toSeq: q, rows: 1, items: 0, reason: 'corrupt' };
      out.push(run);
    }
  }
  return out;
}
