#!/usr/bin/env node
// `npm start`, `npm run pki`, `npm run sign`, `npm run vulnfeed`: run a compiled tool, or say in one line what is
// missing (no build yet, or a production install without the demo's dev dependencies)
// instead of Node's ERR_MODULE_NOT_FOUND stack trace.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS = {
  start: { main: 'dist/scripts/demo/main.js', needs: ['aedes'] },
  pki: { main: 'dist/scripts/pki/main.js', needs: [] },
  sign: { main: 'dist/scripts/sign/main.js', needs: [] },
  vulnfeed: { main: 'dist/scripts/vulnfeed/main.js', needs: [] },
};
const name = process.argv[2];
const tool = Object.hasOwn(TOOLS, name) ? TOOLS[name] : undefined;
if (!tool) {
  console.error(`launch: unknown tool "${name}" (one of ${Object.keys(TOOLS).join(', ')})`);
  process.exit(2);
}
const label = name === 'start' ? 'npm start' : `npm run ${name}`;
const devMissing = tool.needs.filter((p) => !existsSync(join(root, 'node_modules', p)));
if (devMissing.length > 0) {
  console.error(`${label} needs the dev dependencies (${devMissing.join(', ')} missing): run npm ci`);
  process.exit(2);
}
const main = join(root, tool.main);
if (!existsSync(main)) {
  console.error(`${label}: not built yet (${tool.main} missing): run npm ci, or npm run build`);
  process.exit(2);
}
// The tool parses process.argv itself: drop the tool name so it sees only its own options.
process.argv.splice(2, 1);
await import(pathToFileURL(main).href);
