import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, normalize, relative } from 'node:path';
import { type Audience, TrustStore } from '../trust/index.js';
import { loadFeed } from './feed.js';
import type { Feed } from './types.js';

/** Where the daemon keeps the last feed it accepted (from the file or the retained topic). */
export const LAST_GOOD_FEED = 'vulnerabilities.last-good.json';

/**
 * A path of the agent's config seen from a filesystem root: inside a mounted
 * image when the image holds it, else as given (the running system's own, and
 * the same thing when the root is `/`).
 */
export function underRoot(root: string, path: string): string {
  const p = normalize(join(root, path));
  const rel = relative(normalize(root), p);
  return !rel.startsWith('..') && !isAbsolute(rel) && existsSync(p) ? p : path;
}

/**
 * The feed in force for a command that runs without the daemon: the newest of
 * the feed file and the daemon's last good copy that verifies against the trust
 * state in `stateDir`. With an `audience`, the file is judged by target and
 * expiry as the daemon judges it, the last good copy by target only (its expiry
 * was judged when it arrived). A refused file is reported through `onRejected`
 * and the last good copy is used instead.
 */
export function feedInForce(
  root: string,
  paths: { feedFile: string; stateDir: string },
  rootKey: string | undefined,
  onRejected?: (reason: string) => void,
  audience?: Audience,
): Feed | null {
  const feedFile = underRoot(root, paths.feedFile);
  const stateDir = underRoot(root, paths.stateDir);
  const trust = new TrustStore(stateDir, rootKey);
  trust.load();
  let best: Feed | null = null;
  for (const [file, report] of [
    [feedFile, true],
    [join(stateDir, LAST_GOOD_FEED), false],
  ] as const) {
    if (!existsSync(file)) continue;
    try {
      const judged =
        audience && !report ? { ...audience, nowMs: Number.NEGATIVE_INFINITY, clockTrusted: true } : audience;
      const f = loadFeed(readFileSync(file), trust, {}, judged);
      if (!best || f.version > best.version) best = f;
    } catch (e) {
      if (report) onRejected?.(`${(e as { code?: string }).code ?? 'INVALID'}: ${(e as Error).message}`);
    }
  }
  return best;
}
