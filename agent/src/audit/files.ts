import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, relative } from 'node:path';
import type { CheckResult, Evidence } from './types.js';

export type Read =
  | { kind: 'ok'; text: string; path: string }
  | { kind: 'missing'; path: string }
  | { kind: 'not-readable'; path: string };

/** The host path of a gateway path, never outside the root. */
export function hostPath(root: string, gatewayPath: string): string {
  const p = normalize(join(root, gatewayPath));
  const rel = relative(normalize(root), p);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`${gatewayPath} leaves the root`);
  return p;
}

/** Reads a gateway file, telling "absent" from "present but unreadable" (which must never pass). */
export function readGateway(root: string, gatewayPath: string): Read {
  const path = hostPath(root, gatewayPath);
  try {
    return { kind: 'ok', text: readFileSync(path, 'utf8'), path: gatewayPath };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? { kind: 'missing', path: gatewayPath }
      : { kind: 'not-readable', path: gatewayPath };
  }
}

/** Mode and owner of a gateway path, or null when absent. */
export function statGateway(
  root: string,
  gatewayPath: string,
): { mode: number; uid: number; gid: number } | null {
  try {
    const s = statSync(hostPath(root, gatewayPath));
    return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
  } catch {
    return null;
  }
}

/** Lines of a config file without comments, with their 1-based numbers. */
export function meaningfulLines(text: string): { n: number; line: string }[] {
  return text
    .split('\n')
    .map((line, i) => ({ n: i + 1, line: line.replace(/#.*$/, '').trim() }))
    .filter((l) => l.line.length > 0);
}

export const pass = (detail: string, evidence: Evidence[] = []): CheckResult => ({
  status: 'pass',
  detail,
  evidence,
});
export const fail = (detail: string, evidence: Evidence[] = []): CheckResult => ({
  status: 'fail',
  detail,
  evidence,
});
export const na = (detail: string): CheckResult => ({ status: 'not-applicable', detail, evidence: [] });
export const unreadable = (path: string): CheckResult => ({
  status: 'not-readable',
  detail: `${path} exists but cannot be read: grant read access (DESIGN.md: CAP_DAC_READ_SEARCH or the shadow group)`,
  evidence: [{ file: path, text: 'not readable' }],
});
export const oct = (m: number) => `0${(m & 0o777).toString(8).padStart(3, '0')}`;
