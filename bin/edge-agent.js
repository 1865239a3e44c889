#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=1
// The small young generation makes V8 collect the drain loop's short-lived Buffer
// wrappers often, so their external memory goes back before it piles up: peak RSS
// while draining a million buffered readings drops from ~175 MB to ~120 MB
// (`npm run bench`). Two malloc arenas, not one per thread that allocates: the outbox
// worker's own arena held 16-17 MB it no longer used after the open's row check and the
// drain (#12, README "Benchmark"). A systemd unit that calls node directly should set both.
import { existsSync } from 'node:fs';

const main = new URL('../dist/agent/src/main.js', import.meta.url);
// A clone without a build (or `npm ci --omit=dev`, which cannot build) gets one line, not a stack.
if (!existsSync(main)) {
  process.stderr.write(
    'edge-agent: not built (dist/ is missing): run npm ci with the dev dependencies, ' +
      'or install a built tree with scripts/install.sh (README, "Production install")\n',
  );
  process.exit(2);
}
await import(main.href);
