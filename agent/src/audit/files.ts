import { lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AuditContext, CheckResult, Evidence } from './types.js';

export type Read =
  | { kind: 'ok'; text: string; path: string }
  | { kind: 'missing'; path: string }
  | { kind: 'not-readable'; path: string };

/** Symbolic links followed while resolving one path before it counts as a loop (as Linux's MAXSYMLINKS). */
export const MAX_SYMLINKS = 40;

/**
 * The host path of a gateway path, resolved as the gateway itself would see it
 * with `root` as its `/`: every symbolic link on the way is followed inside the
 * root (an absolute target starts again at the root, `..` stops at it), so an
 * image's `etc/shadow -> /etc/shadow` is the image's file, never the host's.
 * With `followLast` false the last component is not followed (for lstat).
 */
export function hostPath(root: string, gatewayPath: string, followLast = true): string {
  const base = resolve(root);
  const todo = gatewayPath.split('/').filter((c) => c.length > 0);
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const c = todo.shift() as string;
    if (c === '.') continue;
    if (c === '..') {
      done.pop();
      continue;
    }
    const here = join(base, ...done, c);
    let target: string | undefined;
    if (todo.length > 0 || followLast) {
      try {
        if (lstatSync(here).isSymbolicLink()) target = readlinkSync(here);
      } catch {
        // Absent or not searchable: the rest is lexical, and the read that follows says which.
      }
    }
    if (target === undefined) {
      done.push(c);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw new Error(`${gatewayPath}: too many levels of symbolic links`);
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...target.split('/').filter((x) => x.length > 0));
  }
  return join(base, ...done);
}

/** Reads a gateway file, telling "absent" from "present but unreadable" (which must never pass). */
export function readGateway(root: string, gatewayPath: string): Read {
  try {
    return { kind: 'ok', text: readFileSync(hostPath(root, gatewayPath), 'utf8'), path: gatewayPath };
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

/** What an agent check says when there is no agent config to judge (absent: not applicable; broken: fail). */
export const noAgent = (ctx: AuditContext): CheckResult =>
  ctx.agentConfigProblem
    ? fail(ctx.agentConfigProblem, [{ file: AGENT_CONFIG, text: ctx.agentConfigProblem }])
    : na(ctx.agentAbsent ?? 'no agent configuration to check');

/** Where an image keeps the agent's own config. */
export const AGENT_CONFIG = '/etc/edge-agent/config.json';
