import { arr, bool, num, obj, oneOf, optional, type Schema, str, validate } from '../config/index.js';
import type { FieldIssue } from '../core/index.js';
import { type Audience, checkCatalogueDocument, DocumentError, type TrustStore } from '../trust/index.js';
import { parseDebVersion } from './debver.js';
import { FeedError } from './errors.js';
import { semver } from './semver.js';
import type { AffectedRange, Feed, FeedBody, VulnRecord } from './types.js';

/** Largest feed document accepted (a whole Debian release with OSV's npm records fits in a few MB). */
export const MAX_FEED_BYTES = 32 * 1024 * 1024;
/** Most records in one feed. */
export const MAX_FEED_RECORDS = 500_000;
/** Issues listed in a refusal (the first ones; the count says how many more). */
const MAX_ISSUES_SHOWN = 5;

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{1,63}$/;
const PKG = /^(@[A-Za-z0-9._~-]+\/)?[A-Za-z0-9][A-Za-z0-9+._~-]{0,213}$/;
const RELEASE = /^[a-z][a-z0-9-]{1,31}$/;
const SEVERITIES = new Set(['critical', 'high', 'medium', 'low', 'unknown']);
const RECORD_KEYS = new Set(['id', 'eco', 'pkg', 'release', 'ranges', 'severity', 'cvss', 'kev', 'summary']);
const RANGE_KEYS = new Set(['introduced', 'fixed', 'lastAffected']);
const version = str({ min: 1, max: 128 });
const rangeSchema: Schema<AffectedRange> = obj<AffectedRange>({
  introduced: optional(version),
  fixed: optional(version),
  lastAffected: optional(version),
});
export const recordSchema: Schema<VulnRecord> = obj<VulnRecord>({
  id: str({ pattern: /^[A-Za-z0-9][A-Za-z0-9._:-]{1,63}$/, hint: 'must be a CVE or advisory id' }),
  eco: oneOf(['deb', 'npm'] as const),
  pkg: str({
    pattern: /^(@[A-Za-z0-9._~-]+\/)?[A-Za-z0-9][A-Za-z0-9+._~-]{0,213}$/,
    hint: 'must be a package name',
  }),
  release: optional(str({ pattern: /^[a-z][a-z0-9-]{1,31}$/, hint: 'must be a Debian codename' })),
  ranges: arr(rangeSchema, { max: 32 }),
  severity: oneOf(['critical', 'high', 'medium', 'low', 'unknown'] as const),
  cvss: optional(num({ min: 0, max: 10 })),
  kev: optional(bool()),
  summary: optional(str({ max: 1024 })),
});

const isVersion = (v: unknown): boolean => typeof v === 'string' && v.length >= 1 && v.length <= 128;
/**
 * The same rules as recordSchema without building a copy or paths: a feed has
 * 100,000 records, and the schema's diagnostics are only needed for a bad one
 * (which then goes through recordSchema for its message).
 */
function plainlyValid(r: unknown): r is VulnRecord {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return false;
  const o = r as Record<string, unknown>;
  for (const k in o) if (!RECORD_KEYS.has(k) || o[k] === undefined) return false;
  if (typeof o.id !== 'string' || !ID.test(o.id) || (o.eco !== 'deb' && o.eco !== 'npm')) return false;
  if (
    typeof o.pkg !== 'string' ||
    !PKG.test(o.pkg) ||
    typeof o.severity !== 'string' ||
    !SEVERITIES.has(o.severity)
  )
    return false;
  if (o.release !== undefined && (typeof o.release !== 'string' || !RELEASE.test(o.release))) return false;
  if (o.cvss !== undefined && (typeof o.cvss !== 'number' || !(o.cvss >= 0 && o.cvss <= 10))) return false;
  if (o.kev !== undefined && typeof o.kev !== 'boolean') return false;
  if (o.summary !== undefined && (typeof o.summary !== 'string' || o.summary.length > 1024)) return false;
  if (!Array.isArray(o.ranges) || o.ranges.length > 32) return false;
  for (const g of o.ranges) {
    if (typeof g !== 'object' || g === null || Array.isArray(g)) return false;
    for (const k in g) if (!RANGE_KEYS.has(k) || !isVersion((g as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** A version valid in the record's ecosystem (`0` means "from the first version"). */
function versionIssue(eco: VulnRecord['eco'], v: string): string | null {
  if (v === '0') return null;
  if (eco === 'npm') return semver().valid(v) ? null : `"${v.slice(0, 40)}" is not a semver version`;
  try {
    parseDebVersion(v);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Validates a feed body; every issue names the record's index and field. */
export function parseFeedBody(
  value: unknown,
  maxRecords = MAX_FEED_RECORDS,
): { ok: true; body: FeedBody } | { ok: false; issues: FieldIssue[] } {
  const b = value as { sources?: unknown; records?: unknown };
  if (typeof b !== 'object' || b === null || !Array.isArray(b.records))
    return { ok: false, issues: [{ path: 'body.records', message: 'must be an array of records' }] };
  if (b.records.length > maxRecords)
    return {
      ok: false,
      issues: [{ path: 'body.records', message: `must have at most ${maxRecords} records` }],
    };
  const issues: FieldIssue[] = [];
  const sources = validate(arr(str({ min: 1, max: 64 }), { max: 16 }), b.sources ?? []);
  if (!sources.ok) issues.push(...sources.issues.map((i) => ({ ...i, path: `body.sources${i.path}` })));
  for (const k of Object.keys(b))
    if (k !== 'sources' && k !== 'records')
      issues.push({ path: `body.${k}`, message: 'is not a known field' });
  const records: VulnRecord[] = [];
  b.records.forEach((r, i) => {
    let rec: VulnRecord;
    if (plainlyValid(r)) rec = r;
    else {
      const v = validate(recordSchema, r);
      if (!v.ok) {
        issues.push(...v.issues.map((x) => ({ path: `body.records[${i}].${x.path}`, message: x.message })));
        return;
      }
      rec = v.value;
    }
    rec.ranges.forEach((g, j) => {
      for (const k of ['introduced', 'fixed', 'lastAffected'] as const) {
        const bad = g[k] !== undefined ? versionIssue(rec.eco, g[k] as string) : null;
        if (bad) issues.push({ path: `body.records[${i}].ranges[${j}].${k}`, message: bad });
      }
      if (g.fixed !== undefined && g.lastAffected !== undefined)
        issues.push({ path: `body.records[${i}].ranges[${j}]`, message: 'has both fixed and lastAffected' });
    });
    records.push(rec);
  });
  if (issues.length) return { ok: false, issues };
  return { ok: true, body: { sources: sources.ok ? sources.value : [], records } };
}

/** What a refusal says: the first issues and how many more there were. */
export function describeIssues(issues: FieldIssue[]): string {
  const shown = issues.slice(0, MAX_ISSUES_SHOWN).map((i) => `${i.path}: ${i.message}`);
  if (issues.length > MAX_ISSUES_SHOWN) shown.push(`and ${issues.length - MAX_ISSUES_SHOWN} more`);
  return shown.join('; ');
}

/**
 * A signed `vulnerabilities` document, verified before parsing (signature by a
 * current `profiles` role key, its own version floor; with an `audience`, its
 * target and expiry as for a profiles bundle: NOT_TARGETED, EXPIRED, or DEFERRED
 * while the clock cannot be trusted) and every record validated; throws
 * FeedError with the reason, and nothing of it is used.
 */
export function loadFeed(
  raw: Uint8Array,
  store: TrustStore,
  limits: { maxBytes?: number; maxRecords?: number } = {},
  audience?: Audience,
): Feed {
  let doc: ReturnType<typeof checkCatalogueDocument>;
  try {
    doc = checkCatalogueDocument(raw, 'vulnerabilities', store, limits.maxBytes ?? MAX_FEED_BYTES, audience);
  } catch (e) {
    if (e instanceof DocumentError) throw new FeedError(e.code, e.message, e.version);
    throw e;
  }
  const r = parseFeedBody(doc.body, limits.maxRecords);
  if (!r.ok) throw new FeedError('SCHEMA', describeIssues(r.issues), doc.version);
  return {
    version: doc.version,
    issuedAt: doc.issuedAt,
    ...(doc.notAfter !== undefined ? { notAfter: doc.notAfter } : {}),
    ...(doc.target !== undefined ? { target: doc.target } : {}),
    sources: r.body.sources,
    records: r.body.records,
  };
}
