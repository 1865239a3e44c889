#!/usr/bin/env node
// Build: generate static protobuf code from proto/ (never parsed at run time), then compile TypeScript.
//
// The compiled tree is written to a fresh folder beside dist/ and swapped in by rename, so a
// CLI started during a rebuild finds either the old dist/ or the new one, never a half-empty
// one (the old build deleted dist/ first and every command failed with ERR_MODULE_NOT_FOUND
// for the length of tsc). The build folder sits at the same depth as dist/ so that paths the
// code computes from import.meta.url are the same before and after the swap.
//
// `--prepare` (npm's prepare hook, run by every `npm ci`): without the dev dependencies
// (`npm ci --omit=dev`) the build cannot run; it then says so in one line and succeeds, so a
// production install works when dist/ comes from a build on a machine with them (README).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const gen = join(root, 'agent', 'src', 'gen');
const dist = join(root, 'dist');
const prepare = process.argv.includes('--prepare');

const missing = ['pbjs', 'pbts', 'tsc'].filter((t) => !existsSync(bin(t)));
if (missing.length > 0) {
  if (prepare) {
    console.log(
      `edge-agent: build skipped (no dev dependencies: ${missing.join(', ')} missing); ` +
        'a gateway runs a dist/ built where they are installed, see README "Production install"',
    );
    process.exit(0);
  }
  console.error(`build: ${missing.join(', ')} missing: the build needs the dev dependencies (npm ci)`);
  process.exit(2);
}

/** Runs a build tool; a failure ends the build with the tool's own output and exit code, no stack. */
function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status === 0) return;
  cleanup(next);
  console.error(`build: ${cmd.split('/').pop()} failed (${r.error?.message ?? `exit ${r.status}`})`);
  process.exit(r.status || 2);
}
const cleanup = (dir) => rmSync(dir, { recursive: true, force: true });
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};

// Leftovers of builds that were killed mid-way (their process is gone).
for (const name of readdirSync(root)) {
  const m = /^dist\.(next|old)-(\d+)$/.exec(name);
  if (m && (m[1] === 'old' || !alive(Number(m[2])))) cleanup(join(root, name));
}

const next = join(root, `dist.next-${process.pid}`);
mkdirSync(gen, { recursive: true });
run(bin('pbjs'), [
  '-t',
  'static-module',
  '-w',
  'es6',
  '--force-number',
  '--no-verify',
  '--no-convert',
  '--no-delimited',
  '--no-service',
  '-o',
  join(gen, 'edge.js'),
  'proto/edge/v1/edge.proto',
]);
run(bin('pbts'), ['-o', join(gen, 'edge.d.ts'), join(gen, 'edge.js')]);
run(bin('tsc'), ['-p', 'tsconfig.json', '--outDir', next]);
// tsc does not copy plain .js sources: the generated codec goes next to its compiled importers.
cpSync(join(gen, 'edge.js'), join(next, 'agent', 'src', 'gen', 'edge.js'));
// The console's page, script and style, served by @fastify/static from beside its compiled code.
const assets = join('platform', 'src', 'console', 'pages', 'assets');
cpSync(join(root, assets), join(next, assets), { recursive: true });

// The swap: two renames microseconds apart instead of a folder missing for the whole build.
const old = join(root, `dist.old-${process.pid}`);
const had = existsSync(dist);
if (had) renameSync(dist, old);
renameSync(next, dist);
if (had) cleanup(old);
