import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/...). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** Compiled test fixtures and child scripts. */
export const distTest = fileURLToPath(new URL('../', import.meta.url));
/** Test vectors from outside the project, kept in the repository with their licences. */
export const vectorsDir = join(repoRoot, 'test', 'fixtures', 'vectors');

/** A temp dir removed when the returned cleanup runs. */
export function tempDir(prefix = 'edge-agent-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
