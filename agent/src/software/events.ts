import { type EventType, Severity } from '../core/index.js';
import type { SoftwareChange } from './diff.js';
import type { Finding } from './types.js';

/** `software.changed` and `software.vulnerable`, bounded per run. */

type Raise = (type: EventType, subject: string, details: Record<string, string>, severity?: Severity) => void;

/** Packages named in one `software.changed` event (the count covers the rest). */
export const MAX_CHANGES_LISTED = 40;
/** `software.vulnerable` events per run; the rest are summed up in one more. */
export const MAX_VULN_EVENTS_PER_RUN = 100;
/** CVE ids listed in one event. */
export const MAX_CVES_PER_EVENT = 20;

const SEVERITY: Record<Finding['severity'], Severity> = {
  critical: Severity.CRITICAL,
  high: Severity.HIGH,
  medium: Severity.MEDIUM,
  low: Severity.LOW,
  unknown: Severity.LOW,
};
/** A finding's identity across runs: only new ones raise an event. */
export const findingKey = (f: Finding): string => `${f.id}|${f.component.purl}`;

/** One `software.changed` per run: counts by kind, the first MAX_CHANGES_LISTED named. */
export function raiseChanges(raise: Raise, changes: SoftwareChange[]): void {
  if (changes.length === 0) return;
  const count = (k: SoftwareChange['kind']) => String(changes.filter((c) => c.kind === k).length);
  const listed = changes
    .slice(0, MAX_CHANGES_LISTED)
    .map((c) =>
      c.kind === 'installed'
        ? `+${c.name} ${c.to}`
        : c.kind === 'removed'
          ? `-${c.name} ${c.from}`
          : `${c.name} ${c.from} -> ${c.to}`,
    );
  if (changes.length > MAX_CHANGES_LISTED) listed.push(`and ${changes.length - MAX_CHANGES_LISTED} more`);
  raise('software.changed', 'packages', {
    installed: count('installed'),
    removed: count('removed'),
    upgraded: count('upgraded'),
    downgraded: count('downgraded'),
    changes: listed.join(', '),
  });
}

/** One event per package with new findings, the worst first; known exploited ones are critical. */
export function raiseFindings(raise: Raise, findings: Finding[], known: Set<string>): void {
  const byPkg = new Map<string, Finding[]>();
  for (const f of findings) {
    if (known.has(findingKey(f))) continue;
    const k = `${f.component.kind === 'npm' ? 'npm' : 'deb'}:${f.component.kind === 'kernel' ? 'kernel' : f.pkg}`;
    byPkg.set(k, [...(byPkg.get(k) ?? []), f]);
  }
  const groups = [...byPkg.entries()];
  for (const [subject, fs] of groups.slice(0, MAX_VULN_EVENTS_PER_RUN)) {
    const ids = [...new Set(fs.map((f) => f.id))];
    const worst = fs[0];
    const fixed = [...new Set(fs.flatMap((f) => (f.fixed ? [f.fixed] : [])))];
    raise(
      'software.vulnerable',
      subject,
      {
        cves:
          ids.slice(0, MAX_CVES_PER_EVENT).join(',') +
          (ids.length > MAX_CVES_PER_EVENT ? ` and ${ids.length - MAX_CVES_PER_EVENT} more` : ''),
        packages: [...new Set(fs.map((f) => `${f.component.name} ${f.component.version}`))]
          .slice(0, MAX_CVES_PER_EVENT)
          .join(', '),
        severity: worst.severity,
        kev: String(fs.some((f) => f.kev)),
        fixed: fixed.slice(0, 4).join(', ') || 'none yet',
      },
      fs.some((f) => f.kev) ? Severity.CRITICAL : SEVERITY[worst.severity],
    );
  }
  if (groups.length > MAX_VULN_EVENTS_PER_RUN) {
    const rest = groups.slice(MAX_VULN_EVENTS_PER_RUN);
    raise('software.vulnerable', 'more', {
      packages: String(rest.length),
      findings: String(rest.reduce((n, [, fs]) => n + fs.length, 0)),
    });
  }
}
