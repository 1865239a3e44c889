import { compareDebVersions } from './debver.js';
import { debianEquivalent } from './raspbian.js';
import { semver } from './semver.js';
import type {
  AffectedRange,
  Feed,
  Finding,
  SoftwareComponent,
  SoftwareInventory,
  VulnRecord,
} from './types.js';

/** Records by `eco:package`, so matching costs one lookup per component whatever the feed's size. */
export type FeedIndex = Map<string, VulnRecord[]>;

export function indexFeed(feed: Pick<Feed, 'records'>): FeedIndex {
  const idx: FeedIndex = new Map();
  for (const r of feed.records) {
    const k = `${r.eco}:${r.pkg}`;
    const list = idx.get(k);
    if (list) list.push(r);
    else idx.set(k, [r]);
  }
  return idx;
}

type Cmp = (a: string, b: string) => number;
const npmCmp: Cmp = (a, b) => semver().compare(a, b);

/** Is `v` in the range? Returns the range's fix (or null when affected without a fix), undefined when not affected. */
function inRange(v: string, g: AffectedRange, cmp: Cmp): string | null | undefined {
  if (g.introduced !== undefined && g.introduced !== '0' && cmp(v, g.introduced) < 0) return undefined;
  if (g.fixed !== undefined) return cmp(v, g.fixed) < 0 ? g.fixed : undefined;
  if (g.lastAffected !== undefined && cmp(v, g.lastAffected) > 0) return undefined;
  return null;
}

/** The fix for `v` if the record affects it: a version, null (affected, no fix yet) or undefined (not affected). */
export function affects(r: VulnRecord, v: string): string | null | undefined {
  const cmp = r.eco === 'npm' ? npmCmp : compareDebVersions;
  if (r.ranges.length === 0) return null;
  let hit: string | null | undefined;
  for (const g of r.ranges) {
    const f = inRange(v, g, cmp);
    if (f === undefined) continue;
    if (f === null) return null;
    if (hit === undefined || hit === null || cmp(f, hit) < 0) hit = f;
  }
  return hit;
}

/**
 * What a component is tracked as: deb by source package and source version, the kernel as
 * Debian's `linux`; a Raspbian rebuild by the Debian version it stands for.
 */
function trackedAs(c: SoftwareComponent): { key: string; version: string } | null {
  if (c.kind === 'npm')
    return semver().valid(c.version) ? { key: `npm:${c.name}`, version: c.version } : null;
  if (c.kind === 'deb')
    return { key: `deb:${c.source ?? c.name}`, version: debianEquivalent(c.sourceVersion ?? c.version) };
  return c.debianVersion ? { key: 'deb:linux', version: debianEquivalent(c.debianVersion) } : null;
}

/**
 * The vulnerable components: each installed version inside an affected range
 * of a record for its package (and, for deb, for this Debian release).
 */
export function matchFeed(inv: SoftwareInventory, idx: FeedIndex): Finding[] {
  const release = inv.os?.codename;
  const out: Finding[] = [];
  for (const c of inv.components) {
    const t = trackedAs(c);
    const list = t && idx.get(t.key);
    if (!t || !list) continue;
    for (const r of list) {
      if (r.release && release && r.release !== release) continue;
      let fix: string | null | undefined;
      try {
        fix = affects(r, t.version);
      } catch {
        continue; // a version the ecosystem's rules cannot order (validated feeds make this rare)
      }
      if (fix === undefined) continue;
      out.push({
        id: r.id,
        component: { kind: c.kind, name: c.name, version: c.version, purl: c.purl },
        pkg: r.pkg,
        severity: r.severity,
        ...(r.cvss !== undefined ? { cvss: r.cvss } : {}),
        kev: r.kev === true,
        ...(fix ? { fixed: fix } : {}),
        ...(r.summary ? { summary: r.summary } : {}),
      });
    }
  }
  return out.sort(
    (a, b) =>
      rank(b) - rank(a) || a.id.localeCompare(b.id) || a.component.name.localeCompare(b.component.name),
  );
}

const SEV = { critical: 4, high: 3, medium: 2, low: 1, unknown: 0 } as const;
/** Known exploited first, then by severity. */
const rank = (f: Finding): number => (f.kev ? 10 : 0) + SEV[f.severity];

/** Findings the posture check fails on: known exploited, or critical, with a fix available. */
export function urgentFindings(findings: Finding[]): Finding[] {
  return findings.filter((f) => f.fixed !== undefined && (f.kev || f.severity === 'critical'));
}
