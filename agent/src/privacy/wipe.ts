import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { overwrite } from './pseudonym.js';

/** What a wipe erased, for the technician's report. */
export interface WipeReport {
  erased: { what: string; path: string; bytes: number }[];
  missing: string[];
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
    const siblings = existsSync(dir)
      ? readdirSync(dir).filter(
          (f) => f === base || f.startsWith(`${base}-`) || f.startsWith(`${base}.quarantined-`),
        )
      : [];
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
