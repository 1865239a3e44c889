import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TEMP_SUFFIX } from '../config/index.js';
import { overwrite } from './pseudonym.js';

/** What a wipe erased, for the technician's report. */
export interface WipeReport {
  erased: { what: string; path: string; bytes: number }[];
  missing: string[];
}

/**
 * The files that hold a target's bytes: the file, SQLite's `-wal`/`-shm`, every
 * `.`-suffixed copy (`.quarantined-…`, a renewal's `.next` key and `.prev`
 * pair, a `.new` file) and the temp files a crash left behind (`.name.….tmp`).
 */
function belongsTo(f: string, base: string): boolean {
  return (
    f === base ||
    f.startsWith(`${base}-`) ||
    f.startsWith(`${base}.`) ||
    (f.startsWith(`.${base}.`) && f.endsWith(TEMP_SUFFIX))
  );
}

/**
 * Erases the gateway's data (ETSI EN 303 645 provision 5.11-1): every file is
 * overwritten with zeros before it is removed, SQLite's WAL and shared memory and
 * quarantined copies included.
 */
export function wipeFiles(targets: { what: string; path: string }[]): WipeReport {
  const report: WipeReport = { erased: [], missing: [] };
  for (const t of targets) {
    const dir = dirname(t.path);
    const base = basename(t.path);
    const siblings = existsSync(dir) ? readdirSync(dir).filter((f) => belongsTo(f, base)) : [];
    if (siblings.length === 0) {
      report.missing.push(t.path);
      continue;
    }
    for (const f of siblings) {
      const p = join(dir, f);
      const bytes = statSync(p).size;
      if (statSync(p).isFile()) overwrite(p);
      rmSync(p, { force: true });
      report.erased.push({ what: t.what, path: p, bytes });
    }
  }
  return report;
}
