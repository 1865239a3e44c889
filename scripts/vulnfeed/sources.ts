// Readers of the public data an operator downloads on a connected machine:
// the Debian security tracker's JSON, OSV records, and CISA's KEV catalogue.
import type { AffectedRange, FeedSeverity, VulnRecord } from '../../agent/src/software/index.js';
import { cvss3BaseScore, severityOf } from './cvss.js';

/** Why records were left out, by reason, for the builder's summary. */
export type Skipped = Record<string, number>;
const skip = (s: Skipped, why: string) => {
  s[why] = (s[why] ?? 0) + 1;
};

interface DebianRelease {
  status?: string;
  fixed_version?: string;
  urgency?: string;
}
type DebianTracker = Record<
  string,
  Record<string, { description?: string; releases?: Record<string, DebianRelease> }>
>;

const URGENCY: Record<string, FeedSeverity> = {
  high: 'high',
  medium: 'medium',
  low: 'low',
  unimportant: 'low',
};

/**
 * https://security-tracker.debian.org/tracker/data/json: source package ->
 * CVE -> release -> {status, fixed_version, urgency}. Kept for one release:
 * resolved issues with their fixed version, open ones without a fix. Left out:
 * releases never affected (fixed_version "0"), undetermined issues, and open
 * issues Debian rates unimportant (they get no fix by design).
 */
export function fromDebianTracker(data: unknown, release: string, skipped: Skipped): VulnRecord[] {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new Error('the Debian tracker JSON must be an object of source packages');
  const out: VulnRecord[] = [];
  for (const [pkg, cves] of Object.entries(data as DebianTracker)) {
    if (typeof cves !== 'object' || cves === null) continue;
    for (const [id, cve] of Object.entries(cves)) {
      const r = cve?.releases?.[release];
      if (!r) {
        skip(skipped, `not tracked for ${release}`);
        continue;
      }
      const urgency = (r.urgency ?? '').replace(/\*$/, '');
      const severity = URGENCY[urgency] ?? 'unknown';
      const summary = typeof cve.description === 'string' ? cve.description.slice(0, 300) : undefined;
      const base = { id, eco: 'deb' as const, pkg, release, severity, ...(summary ? { summary } : {}) };
      if (r.status === 'resolved' && r.fixed_version === '0') skip(skipped, 'never affected this release');
      else if (r.status === 'resolved' && r.fixed_version)
        out.push({ ...base, ranges: [{ fixed: r.fixed_version }] });
      else if (r.status === 'open' && urgency === 'unimportant') skip(skipped, 'open and unimportant');
      else if (r.status === 'open') out.push({ ...base, ranges: [] });
      else skip(skipped, `status ${r.status ?? 'missing'}`);
    }
  }
  return out;
}

interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
}
interface OsvRecord {
  id?: string;
  aliases?: string[];
  summary?: string;
  details?: string;
  severity?: { type?: string; score?: string }[];
  database_specific?: { severity?: string };
  affected?: {
    package?: { ecosystem?: string; name?: string };
    ranges?: { type?: string; events?: OsvEvent[] }[];
    database_specific?: { severity?: string };
  }[];
}

const DEBIAN_RELEASES: Record<string, string> = {
  '10': 'buster',
  '11': 'bullseye',
  '12': 'bookworm',
  '13': 'trixie',
};
const GHSA_SEVERITY: Record<string, FeedSeverity> = {
  CRITICAL: 'critical',
  HIGH: 'high',
  MODERATE: 'medium',
  MEDIUM: 'medium',
  LOW: 'low',
};

/** OSV range events (introduced / fixed / last_affected, in order) as ranges. */
function rangesOf(events: OsvEvent[]): AffectedRange[] {
  const out: AffectedRange[] = [];
  let cur: AffectedRange | null = null;
  for (const e of events) {
    if (e.introduced !== undefined) {
      if (cur) out.push(cur);
      cur = e.introduced === '0' ? {} : { introduced: e.introduced };
    } else if (e.fixed !== undefined || e.last_affected !== undefined) {
      const r: AffectedRange = cur ?? {};
      if (e.fixed !== undefined) r.fixed = e.fixed;
      else r.lastAffected = e.last_affected;
      out.push(r);
      cur = null;
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** A CVE's score and rating from an OSV record (the CVSS v3 vector, else the advisory's own rating). */
export function scoreOf(o: OsvRecord): { cvss?: number; severity: FeedSeverity } {
  for (const s of o.severity ?? []) {
    const score = s.type === 'CVSS_V3' && s.score ? cvss3BaseScore(s.score) : undefined;
    if (score !== undefined) return { cvss: score, severity: severityOf(score) };
  }
  const rated =
    o.database_specific?.severity ??
    o.affected?.find((a) => a.database_specific?.severity)?.database_specific?.severity;
  return { severity: GHSA_SEVERITY[String(rated).toUpperCase()] ?? 'unknown' };
}

/**
 * OSV records (https://ossf.github.io/osv-schema/) of the npm and Debian
 * ecosystems; the record is named by its CVE alias when it has one, so the
 * KEV flag and scores join up.
 */
export function fromOsv(o: OsvRecord, skipped: Skipped): VulnRecord[] {
  if (typeof o !== 'object' || o === null || typeof o.id !== 'string')
    throw new Error('an OSV record needs an id');
  const id = o.id.startsWith('CVE-') ? o.id : ((o.aliases ?? []).find((a) => a.startsWith('CVE-')) ?? o.id);
  const { cvss, severity } = scoreOf(o);
  const summary = (o.summary ?? o.details ?? '').slice(0, 300) || undefined;
  const out: VulnRecord[] = [];
  for (const a of o.affected ?? []) {
    const eco = a.package?.ecosystem ?? '';
    const name = a.package?.name;
    const deb = /^Debian:(\d+)$/.exec(eco);
    if (!name || (eco !== 'npm' && !deb)) {
      skip(skipped, `ecosystem ${eco || 'missing'}`);
      continue;
    }
    const want = eco === 'npm' ? 'SEMVER' : 'ECOSYSTEM';
    const ranges = (a.ranges ?? []).filter((r) => r.type === want).flatMap((r) => rangesOf(r.events ?? []));
    if (ranges.length === 0) {
      skip(skipped, 'no version range');
      continue;
    }
    out.push({
      id,
      eco: eco === 'npm' ? 'npm' : 'deb',
      pkg: name,
      ...(deb ? { release: DEBIAN_RELEASES[deb[1]] ?? `debian-${deb[1]}` } : {}),
      ranges,
      severity,
      ...(cvss !== undefined ? { cvss } : {}),
      ...(summary ? { summary } : {}),
    });
  }
  return out;
}

/** CISA's Known Exploited Vulnerabilities catalogue (JSON): the CVE ids. */
export function kevIds(data: unknown): Set<string> {
  const list = (data as { vulnerabilities?: { cveID?: unknown }[] })?.vulnerabilities;
  if (!Array.isArray(list)) throw new Error('the KEV catalogue must have a "vulnerabilities" array');
  return new Set(list.flatMap((v) => (typeof v?.cveID === 'string' ? [v.cveID] : [])));
}
