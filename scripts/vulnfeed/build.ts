import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  describeIssues,
  type FeedBody,
  parseFeedBody,
  type VulnRecord,
} from '../../agent/src/software/index.js';
import { fromDebianTracker, fromOsv, kevIds, type Skipped, scoreOf } from './sources.js';

export interface FeedInputs {
  /** Debian security tracker JSON files, and the release (codename) to keep. */
  debian?: { files: string[]; release: string };
  /** OSV record files, arrays of records, or folders of them (osv.dev's per-ecosystem zips unpacked). */
  osv?: string[];
  /** CISA KEV catalogue JSON files. */
  kev?: string[];
}

const readJson = (f: string): unknown => {
  try {
    return JSON.parse(readFileSync(f, 'utf8'));
  } catch (e) {
    throw new Error(`${f}: ${(e as Error).message}`);
  }
};

/** Every .json file of a path (a file, or a folder walked recursively), sorted for a reproducible feed. */
function jsonFiles(p: string): string[] {
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p)
    .sort()
    .flatMap((f) =>
      statSync(join(p, f)).isDirectory() ? jsonFiles(join(p, f)) : f.endsWith('.json') ? [join(p, f)] : [],
    );
}

/**
 * Turns the downloaded data into a feed body: Debian tracker records for one
 * release and OSV records, CVSS scores from OSV joined onto the Debian records
 * of the same CVE (the tracker has none), the KEV flag set from CISA's
 * catalogue, duplicates (same id, package and release) kept once with their ranges merged. The result is
 * checked with the agent's own validator, so the builder never signs what an
 * agent would refuse.
 */
export function buildFeedBody(inputs: FeedInputs): { body: FeedBody; skipped: Skipped } {
  const skipped: Skipped = {};
  const records: VulnRecord[] = [];
  const sources: string[] = [];
  const scores = new Map<string, ReturnType<typeof scoreOf>>();
  if (inputs.debian) {
    sources.push('debian-security-tracker');
    for (const f of inputs.debian.files)
      records.push(...fromDebianTracker(readJson(f), inputs.debian.release, skipped));
  }
  if (inputs.osv?.length) {
    sources.push('osv');
    for (const f of inputs.osv.flatMap(jsonFiles)) {
      const data = readJson(f);
      for (const o of Array.isArray(data) ? data : [data]) {
        const got = fromOsv(o, skipped);
        records.push(...got);
        const s = scoreOf(o);
        for (const r of got) if (s.cvss !== undefined && !scores.has(r.id)) scores.set(r.id, s);
        for (const a of (o as { aliases?: string[] }).aliases ?? [])
          if (s.cvss !== undefined && !scores.has(a)) scores.set(a, s);
      }
    }
  }
  const kev = new Set<string>();
  if (inputs.kev?.length) {
    sources.push('cisa-kev');
    for (const f of inputs.kev) for (const id of kevIds(readJson(f))) kev.add(id);
  }
  const seen = new Map<string, VulnRecord>();
  const out: VulnRecord[] = [];
  for (const r of records) {
    const key = `${r.id}|${r.eco}|${r.pkg}|${r.release ?? ''}`;
    const first = seen.get(key);
    if (first) {
      // An advisory lists a package once per affected line (6.x and 7.x, say): the ranges add up.
      const known = new Set(first.ranges.map((g) => JSON.stringify(g)));
      const more = r.ranges.filter((g) => !known.has(JSON.stringify(g)));
      if (more.length === 0) skipped.duplicate = (skipped.duplicate ?? 0) + 1;
      // An empty list means every version: it stays so.
      else if (first.ranges.length > 0) first.ranges.push(...more);
      continue;
    }
    const s = r.cvss === undefined ? scores.get(r.id) : undefined;
    const rec: VulnRecord = {
      ...r,
      ranges: [...r.ranges],
      ...(s ? { cvss: s.cvss, severity: s.severity } : {}),
      ...(kev.has(r.id) ? { kev: true } : {}),
    };
    seen.set(key, rec);
    out.push(rec);
  }
  const body: FeedBody = { sources, records: out };
  const v = parseFeedBody(body);
  if (!v.ok) throw new Error(`the feed would be refused: ${describeIssues(v.issues)}`);
  return { body, skipped };
}
