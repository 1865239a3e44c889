import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { StreamItem } from '../core/index.js';
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

/** Writes the journal durably: a temporary file synced, renamed over, and the directory synced. */
export function writeJournal(file: string, j: QuarantineJournal): void {
  const path = journalPath(file);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(j));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDir(dirname(file));
}

/** The pending journal, or null; one that does not parse was never renamed into place whole. */
export function readJournal(file: string): QuarantineJournal | null {
  let text: string;
  try {
    text = readFileSync(journalPath(file), 'utf8');
  } catch {
    return null;
  }
  try {
    const j = JSON.parse(text) as QuarantineJournal;
    return typeof j.aside === 'string' && Array.isArray(j.wanted) && Array.isArray(j.owed) ? j : null;
  } catch {
    return null;
  }
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
  syncDir(dirname(file));
}

/** A journal whose rename did not happen (the crash came first): the bad file is still in place. */
export function renamePending(file: string, j: QuarantineJournal): boolean {
  return !existsSync(j.aside) && existsSync(file);
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
  to: { epoch: number; log: (obj: Record<string, unknown>, msg: string) => void },
): void {
  const j = readJournal(file);
  if (!j) return;
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

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems cannot sync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
