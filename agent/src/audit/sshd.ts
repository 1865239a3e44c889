import { readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { hostPath, meaningfulLines, readGateway } from './files.js';
import type { Evidence } from './types.js';

/** sshd's effective global settings: for each keyword, the first value seen wins (as in sshd). */
export interface SshdConfig {
  values: Map<string, { value: string; evidence: Evidence }>;
  unreadable: string[];
  found: boolean;
}

/** Reads /etc/ssh/sshd_config and its Include files, stopping at the first Match block. */
export function readSshd(root: string, file = '/etc/ssh/sshd_config'): SshdConfig {
  const cfg: SshdConfig = { values: new Map(), unreadable: [], found: false };
  const visit = (path: string, depth: number) => {
    if (depth > 8) return;
    const r = readGateway(root, path);
    if (r.kind === 'missing') return;
    if (r.kind === 'not-readable') {
      cfg.unreadable.push(path);
      return;
    }
    cfg.found = true;
    for (const { n, line } of meaningfulLines(r.text)) {
      const [kw, ...rest] = line.split(/\s+/);
      const key = kw.toLowerCase();
      const value = rest.join(' ');
      if (key === 'match') return;
      if (key === 'include') {
        for (const pattern of rest) for (const f of expand(root, pattern)) visit(f, depth + 1);
        continue;
      }
      if (!cfg.values.has(key)) cfg.values.set(key, { value, evidence: { file: path, line: n, text: line } });
    }
  };
  visit(file, 0);
  return cfg;
}

/** Expands `sshd_config.d/*.conf` style patterns (relative to /etc/ssh), sorted as sshd does. */
function expand(root: string, pattern: string): string[] {
  const abs = pattern.startsWith('/') ? pattern : posix.join('/etc/ssh', pattern);
  if (!abs.includes('*')) return [abs];
  const dir = posix.dirname(abs);
  const re = new RegExp(
    `^${posix
      .basename(abs)
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')}$`,
  );
  try {
    return readdirSync(hostPath(root, dir))
      .filter((f) => re.test(f))
      .sort()
      .map((f) => posix.join(dir, f));
  } catch {
    return [];
  }
}
