// An SD card's fsync for tests that need one, built from the repository (test/fixtures/slow-fsync):
// a fresh clone has none of the CI's tools beside it, and a test must not test less without them.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

const SOURCE = join(repoRoot, 'test', 'fixtures', 'slow-fsync', 'shim.c');

/**
 * Compiles the shim into `dir` (gcc: a Debian package `.ci/run` installs) and returns the
 * environment that makes a child's every fsync/fdatasync wait `ms`. Throws with gcc's words.
 */
export function slowFsyncEnv(dir: string, ms: number): { LD_PRELOAD: string; SLOW_FSYNC_MS: string } {
  const lib = join(dir, 'libslowfsync.so');
  const r = spawnSync('gcc', ['-shared', '-fPIC', '-O2', '-Wall', '-o', lib, SOURCE, '-ldl'], {
    encoding: 'utf8',
  });
  if (r.status !== 0)
    throw new Error(`cannot compile the slow-fsync shim (gcc): ${r.error?.message ?? r.stderr}`);
  return { LD_PRELOAD: lib, SLOW_FSYNC_MS: String(ms) };
}
