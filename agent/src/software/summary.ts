import { join } from 'node:path';
import { readJsonState } from '../config/files.js';
import { shown } from '../core/terminal.js';
import { urgentFindings } from './match.js';
import type { Feed, Finding, SoftwareInventory } from './types.js';

const DAY = 86_400_000;

/** Where the daemon keeps what it found last (also read by `status` while the daemon is stopped). */
export const SOFTWARE_STATE = 'software-state.json';

/** The gateway's own software in a few figures: what `status` and `doctor` show. */
export interface SoftwareSummary {
  checkedAt: string;
  /** `absent`: not a Debian system; `corrupt`: the package list cannot be trusted (nothing judged). */
  dpkg: SoftwareInventory['dpkg']['state'];
  components: number;
  /** Installed packages (deb, npm, the kernel) with at least one finding. */
  vulnerablePackages: number;
  /** Distinct CVEs found, of them known exploited (KEV) and critical. */
  cves: number;
  knownExploited: number;
  critical: number;
  /** Findings the ETSI 5.3 check fails on: known exploited or critical, with a fix available. */
  urgent: number;
  feed: {
    version: number;
    issuedAt: string;
    /** Whole days since the feed was issued, at `checkedAt`. */
    ageDays: number;
    notAfter?: string;
    expired: boolean;
  } | null;
  /** The last feed offered and refused (the one in force stayed), with the reason. */
  feedRefused?: string;
}

export function summarize(
  inv: Pick<SoftwareInventory, 'components' | 'dpkg'>,
  findings: Finding[],
  feed: Feed | null,
  nowMs: number,
  feedRefused?: string,
): SoftwareSummary {
  const cves = (f: Finding[]) => new Set(f.map((x) => x.id)).size;
  return {
    checkedAt: new Date(nowMs).toISOString(),
    dpkg: inv.dpkg.state,
    components: inv.components.length,
    vulnerablePackages: new Set(findings.map((f) => f.component.purl)).size,
    cves: cves(findings),
    knownExploited: cves(findings.filter((f) => f.kev)),
    critical: cves(findings.filter((f) => f.severity === 'critical')),
    urgent: urgentFindings(findings).length,
    feed: feed && {
      version: feed.version,
      issuedAt: feed.issuedAt,
      ageDays: Math.max(0, Math.floor((nowMs - Date.parse(feed.issuedAt)) / DAY)),
      ...(feed.notAfter !== undefined ? { notAfter: feed.notAfter } : {}),
      expired: feed.notAfter !== undefined && Date.parse(feed.notAfter) < nowMs,
    },
    ...(feedRefused ? { feedRefused } : {}),
  };
}

/** One line for `status` and `doctor` (a terminal's: the feed's refusal reason is outside text). */
export function summaryLine(s: SoftwareSummary): string {
  return shown(plainLine(s));
}

function plainLine(s: SoftwareSummary): string {
  if (s.dpkg === 'corrupt') return 'the dpkg database cannot be read: nothing judged';
  const f = s.feed;
  const feed = f
    ? `feed v${f.version}, ${f.ageDays} day(s) old${f.expired ? `, EXPIRED ${f.notAfter}` : ''}`
    : 'no vulnerability feed';
  return `${s.vulnerablePackages} vulnerable package(s) (${s.knownExploited} known-exploited, ${s.critical} critical CVE(s)); ${feed}${s.feedRefused ? `; refused: ${s.feedRefused}` : ''}`;
}

const num = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const text = (v: unknown): boolean => typeof v === 'string';
const COUNTS = ['components', 'vulnerablePackages', 'cves', 'knownExploited', 'critical', 'urgent'] as const;

/** A summary read back from disk has the shape `summaryLine` prints (a corrupt file: none). */
function isSummary(v: unknown): v is SoftwareSummary {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  const f = s.feed as Record<string, unknown> | null | undefined;
  const feedOk =
    f === null ||
    (typeof f === 'object' &&
      f !== undefined &&
      num(f.version) &&
      text(f.issuedAt) &&
      num(f.ageDays) &&
      typeof f.expired === 'boolean' &&
      (f.notAfter === undefined || text(f.notAfter)));
  return (
    text(s.checkedAt) &&
    text(s.dpkg) &&
    COUNTS.every((k) => num(s[k])) &&
    feedOk &&
    (s.feedRefused === undefined || text(s.feedRefused))
  );
}

/** What the daemon recorded last, for `status` while it is stopped (null: none, or not readable). */
export function readSoftwareSummary(stateDir: string): SoftwareSummary | null {
  const s = readJsonState<{ summary?: unknown }>(join(stateDir, SOFTWARE_STATE))?.summary;
  return isSummary(s) ? s : null;
}
