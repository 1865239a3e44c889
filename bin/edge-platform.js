#!/usr/bin/env node
// The platform side (collectors, registry, store migrations): see `edge-platform --help`.
import { existsSync } from 'node:fs';

const main = new URL('../dist/platform/src/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('edge-platform: not built (dist/ is missing): run npm ci, or npm run build\n');
  process.exit(2);
}
await import(main.href);
