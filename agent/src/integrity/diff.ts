import type { Entry } from './scan.js';

/** One difference between the baseline and now; `kind` names its event (`integrity.<kind>`). */
export interface Change {
  kind: 'modified' | 'added' | 'removed' | 'perms_changed';
  path: string;
  /** What changed, as `field: before → after`. */
  detail: string;
}

const oct = (m: number) => m.toString(8).padStart(4, '0');

/** Compares two scans. Content, type or symlink target → modified; mode or owner → perms_changed. */
export function diffEntries(before: Entry[], after: Entry[]): Change[] {
  const a = new Map(after.map((e) => [e.path, e]));
  const b = new Map(before.map((e) => [e.path, e]));
  const out: Change[] = [];
  for (const [path, old] of b) {
    const now = a.get(path);
    if (!now) {
      out.push({ kind: 'removed', path, detail: `${old.type} removed` });
      continue;
    }
    const content: string[] = [];
    if (old.type !== now.type) content.push(`type: ${old.type} → ${now.type}`);
    if (old.sha256 !== now.sha256)
      content.push(`sha256: ${old.sha256?.slice(0, 12) ?? '-'} → ${now.sha256?.slice(0, 12) ?? '-'}`);
    if (old.size !== now.size) content.push(`size: ${old.size} → ${now.size}`);
    if (old.target !== now.target) content.push(`target: ${old.target ?? '-'} → ${now.target ?? '-'}`);
    if (old.error !== now.error)
      content.push(`readable: ${old.error ? 'no' : 'yes'} → ${now.error ? 'no' : 'yes'}`);
    if (content.length > 0) out.push({ kind: 'modified', path, detail: content.join(', ') });
    const perms: string[] = [];
    if (old.mode !== now.mode) perms.push(`mode: ${oct(old.mode)} → ${oct(now.mode)}`);
    if (old.uid !== now.uid) perms.push(`uid: ${old.uid} → ${now.uid}`);
    if (old.gid !== now.gid) perms.push(`gid: ${old.gid} → ${now.gid}`);
    if (perms.length > 0) out.push({ kind: 'perms_changed', path, detail: perms.join(', ') });
  }
  for (const [path, now] of a)
    if (!b.has(path)) out.push({ kind: 'added', path, detail: `${now.type} added` });
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}
