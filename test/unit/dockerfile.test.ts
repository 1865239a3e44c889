import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { repoRoot } from '../helpers/paths.js';

// No Docker engine here: check statically what a reviewer would check.
it('Dockerfile.arm64 is multi-stage for arm64, runs as non-root under an init, with a volume and a health check', () => {
  const text = readFileSync(join(repoRoot, 'Dockerfile.arm64'), 'utf8');
  const froms = text.match(/^FROM .*$/gm) ?? [];
  assert.equal(froms.length, 2, 'a build stage and a runtime stage');
  assert.ok(froms.every((f) => f.includes('--platform=linux/arm64')));
  assert.match(
    text,
    /npm ci[^\n]*\n?[^\n]*npm prune --omit=dev/,
    'native modules built in the build stage, dev dependencies dropped',
  );
  assert.match(text, /^USER edge-agent$/m);
  assert.match(text, /^ENTRYPOINT \["\/usr\/bin\/tini", "--"/m);
  assert.match(text, /^VOLUME \["\/var\/lib\/edge-agent"\]$/m);
  assert.match(text, /^HEALTHCHECK .*\n\s+CMD \[.*"status"/m);
  for (const m of text.matchAll(/^COPY (?!--from)(\S+)/gm)) {
    if (m[1].startsWith('--')) continue;
    assert.ok(existsSync(join(repoRoot, m[1])), `COPY source ${m[1]} exists`);
  }
});
