import { compareDebVersions } from './debver.js';
import { semver } from './semver.js';

export interface SoftwareChange {
  kind: 'installed' | 'removed' | 'upgraded' | 'downgraded';
  /** `kind:name:arch` of the component. */
  name: string;
  from?: string;
  to?: string;
}

/** Orders two versions of one component by its ecosystem's rules (kernel releases: as dpkg would). */
function newer(key: string, a: string, b: string): number {
  try {
    return key.startsWith('npm:') ? semver().compare(a, b) : compareDebVersions(a, b);
  } catch {
    return a < b ? -1 : 1;
  }
}

/** What changed between two inventories (component key to version), sorted by name. */
export function diffSoftware(before: Record<string, string>, now: Record<string, string>): SoftwareChange[] {
  const out: SoftwareChange[] = [];
  for (const [k, v] of Object.entries(now)) {
    const p = before[k];
    if (p === undefined) out.push({ kind: 'installed', name: k, to: v });
    else if (p !== v)
      out.push({ kind: newer(k, v, p) < 0 ? 'downgraded' : 'upgraded', name: k, from: p, to: v });
  }
  for (const [k, v] of Object.entries(before))
    if (!(k in now)) out.push({ kind: 'removed', name: k, from: v });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
