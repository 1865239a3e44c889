import { existsSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { STREAMS, Stream, type StreamItem } from '../core/index.js';
import { fsyncDir, writeFileAtomic } from '../files/index.js';
import type { Db } from './db.js';
import { evictionNotice, quarantineNotice } from './eviction.js';
import { salvage, type WantedRange } from './salvage.js';
import type { SalvageTable } from './salvage-table.js';

/**
 * What a quarantine at run time owes, written and synced before the bad file
 * is renamed: what the old file held unsent is known only from the worker's
 * memory, and a crash between the rename and the commit of the notices in the
 * new file would forget it. The next open finishes a journal it finds (rename
 * if not done yet, salvage, notices) and removes it only once that committed.
 */
export interface QuarantineJournal {
  /** Where the bad file goes (also names this quarantine: the new file records it when finished). */
  aside: string;
  reason: string;
  nowMs: number;
  /** Unsent ranges of the old epoch, and salvaged rows of older ones the file still held. */
  wanted: WantedRange[];
  /** Notices the old file owed and had not settled. */
  owed: StreamItem[];
}

export const journalPath = (file: string): string => `${file}.quarantine`;
export const asidePath = (file: string, stamp: number): string => `${file}.quarantined-${stamp}`;

/** Writes the journal durably (private: it names what the outbox held unsent). */
export function writeJournal(file: string, j: QuarantineJournal): void {
  writeFileAtomic(journalPath(file), JSON.stringify(j), 0o600);
}

/** A journal that is there but cannot be trusted: what it owed is unknown, and it names nothing to move or read. */
export interface UnreadableJournal {
  unreadable: string;
}

/**
 * The pending journal, or null. It is renamed into place whole, so one that
 * does not parse or does not hold what a quarantine writes was damaged on the
 * disk (or written by someone else): its fields are never acted on (`aside`
 * renames the live file, `wanted` sizes memory), it is reported instead.
 */
export function readJournal(file: string): QuarantineJournal | UnreadableJournal | null {
  let text: string;
  try {
    text = readFileSync(journalPath(file), 'utf8');
  } catch {
    return null;
  }
  try {
    const why = invalid(JSON.parse(text) as unknown, file);
    return why === undefined ? (JSON.parse(text) as QuarantineJournal) : { unreadable: why };
  } catch (e) {
    return { unreadable: `does not parse: ${String(e).slice(0, 100)}` };
  }
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Why `j` is not a journal this agent writes for `file`, or undefined when it is one. */
function invalid(j: unknown, file: string): string | undefined {
  if (!isObject(j)) return 'not an object';
  const prefix = `${file}.quarantined-`;
  if (
    typeof j.aside !== 'string' ||
    !j.aside.startsWith(prefix) ||
    !/^\d+$/.test(j.aside.slice(prefix.length))
  )
    return 'aside is not a quarantine of this file';
  if (typeof j.reason !== 'string' || !isInt(j.nowMs)) return 'reason or time missing';
  if (!Array.isArray(j.wanted) || !Array.isArray(j.owed)) return 'wanted or owed missing';
  for (const w of j.wanted as unknown[])
    if (
      !isObject(w) ||
      !STREAMS.includes(w.stream as Stream) ||
      !isInt(w.epoch) ||
      !isInt(w.fromSeq) ||
      !isInt(w.toSeq) ||
      w.fromSeq < 1 ||
      w.toSeq < w.fromSeq
    )
      return 'a wanted range is malformed';
  for (const o of j.owed as unknown[])
    if (!isObject(o) || o.stream !== Stream.EVENTS || !isObject(o.event) || typeof o.event.type !== 'string')
      return 'an owed notice is malformed';
  return undefined;
}

export function removeJournal(file: string): void {
  try {
    unlinkSync(journalPath(file));
  } catch {
    // Already gone.
  }
}

/** Renames a bad database (and its WAL and shared memory) to `aside`, kept for forensics and salvage. */
export function moveAside(file: string, aside: string): void {
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
  }
  fsyncDir(dirname(file));
}

/** A journal whose rename did not happen (the crash came first): the bad file is still in place. */
export function renamePending(
  file: string,
  j: QuarantineJournal | UnreadableJournal,
): j is QuarantineJournal {
  return 'aside' in j && !existsSync(j.aside) && existsSync(file);
}

/**
 * Finishes the pending quarantine into the new file `db` (epoch `epoch`): the rows
 * of the journal's ranges that read and pass their checksum go into `salvaged`
 * (delivered in their own epoch), and the alert and the exact notices of the rest
 * are owed in the same transaction; the journal goes once that committed.
 */
export function finishQuarantine(
  file: string,
  db: Db,
  table: SalvageTable,
  owe: (items: StreamItem[]) => void,
  to: { epoch: number; nowMs: number; log: (obj: Record<string, unknown>, msg: string) => void },
): void {
  const j = readJournal(file);
  if (!j) return;
  if ('unreadable' in j) {
    // Owed before the journal is moved aside: a crash between the two reports it twice, never not at all.
    db.transaction(() =>
      owe([quarantineNotice(journalPath(file), { message: `journal ${j.unreadable}` }, to.epoch, to.nowMs)]),
    )();
    to.log(
      { why: j.unreadable },
      'the quarantine journal is unreadable: kept aside, what it owed is unknown',
    );
    renameSync(journalPath(file), `${journalPath(file)}.unreadable`);
    return;
  }
  const done = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'quarantined'").get();
  if (done?.value !== j.aside) {
    // Rows go in as they are read, a transaction per chunk (INSERT OR IGNORE: a run cut short is redone whole);
    // the ranges, the notices and the mark that this quarantine is finished commit together after.
    let kept = 0;
    const { lost } = salvage(j.aside, j.wanted, to.log, (rows) => {
      db.transaction(() => table.insertRows(rows))();
      kept += rows.length;
    });
    db.transaction(() => {
      table.insertRanges(j.wanted);
      owe([
        quarantineNotice(j.aside, { message: j.reason }, to.epoch, j.nowMs),
        ...lost.map((r) => evictionNotice(r, r.epoch, j.nowMs)),
        ...j.owed,
      ]);
      db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('quarantined', ?)").run(j.aside);
    })();
    table.committed();
    to.log({ salvaged: kept, lost }, 'salvaged what still reads of the quarantined outbox');
  }
  removeJournal(file);
}
