#!/usr/bin/env node
// Keeps the import rules of DESIGN.md: imports point down the data flow, every
// module is entered through its index.ts (or a light entry, below), and `core`/`telemetry` do no I/O.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const src = join(root, 'agent', 'src');

/** Which project modules each module may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  core: [],
  gen: [],
  files: ['core'],
  config: ['core', 'files'],
  telemetry: ['core', 'gen'],
  buffer: ['core', 'files'],
  trust: ['core', 'telemetry', 'config'],
  identity: ['core', 'telemetry', 'config'],
  pipeline: ['core'],
  privacy: ['core', 'config'],
  sensors: ['core', 'config', 'trust'],
  integrity: ['core', 'config', 'telemetry', 'identity'],
  audit: ['core', 'config', 'monitor', 'software'],
  software: ['core', 'config', 'trust'],
  monitor: ['core', 'config'],
  sync: ['core', 'buffer', 'telemetry', 'config'],
  diag: ['core'],
  // The daemon's wiring: one function per capability, so it reaches every capability.
  daemon: [
    'core',
    'config',
    'telemetry',
    'buffer',
    'trust',
    'identity',
    'pipeline',
    'privacy',
    'sensors',
    'integrity',
    'audit',
    'software',
    'monitor',
    'sync',
    'diag',
  ],
  supervisor: ['core', 'config', 'trust'],
};
/** Node built-ins that mean I/O: forbidden in the pure modules. */
const IO_BUILTINS = [
  'fs',
  'fs/promises',
  'net',
  'tls',
  'http',
  'https',
  'child_process',
  'dgram',
  'worker_threads',
  'dns',
];
const PURE = new Set(['core', 'telemetry']);
/** Files allowed to wire modules together. */
const ROOTS = new Set(['agent.ts', 'main.ts', 'version.ts']);
/**
 * Second entries into a module, besides its index.ts, for the short-lived commands (#12):
 * through the barrels `edge-agent status` loaded 55 files (the daemon's socket server, the
 * protobuf codec...) to read its config and ask one socket, and each file costs a CLI call
 * start-up time. A light entry imports node built-ins, packages and other light entries
 * only (checked below), so what it pulls in stays small as the modules grow.
 */
const LIGHT = new Set(
  [
    'core/errors.ts',
    'core/lazy.ts',
    'core/stdio.ts',
    'core/terminal.ts',
    'files/index.ts',
    'files/atomic.ts',
    'config/files.ts',
    'config/load.ts',
    'config/schema.ts',
    'config/validate.ts',
    'diag/client.ts',
    'telemetry/keys.ts',
    'identity/errors.ts',
    'identity/show.ts',
    'identity/signing-key.ts',
    // `status` with the daemon stopped: the outbox's figures, the last link and software state.
    'core/types.ts',
    'buffer/offline.ts',
    'buffer/queries.ts',
    'sync/state-file.ts',
    'software/debver.ts',
    'software/errors.ts',
    'software/match.ts',
    'software/raspbian.ts',
    'software/semver.ts',
    'software/summary.ts',
  ].map((f) => f.split('/').join(sep)),
);
/** How a module may be entered from outside it: its index.ts, or a light entry. */
const isEntry = (tmod: string, target: string) =>
  target === join(tmod, 'index.js') || LIGHT.has(target.replace(/\.js$/, '.ts'));

const walk = (d: string): string[] =>
  readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? walk(join(d, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')
        ? [join(d, e.name)]
        : [],
  );

const problems: string[] = [];
/** File → the project files it imports, for the cycle check. */
const graph = new Map<string, string[]>();
for (const file of walk(src)) {
  const rel = relative(src, file);
  graph.set(rel, []);
  const mod = rel.includes(sep) ? rel.split(sep)[0] : null;
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(
    /(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
  )) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith('.')) {
      const target = relative(src, resolve(dirname(file), spec));
      const typeOnly = m[0].includes('import type') || m[0].includes('export type');
      if (!typeOnly) graph.get(rel)?.push(target.replace(/\.js$/, '.ts'));
      if (LIGHT.has(rel) && !typeOnly && !LIGHT.has(target.replace(/\.js$/, '.ts')))
        problems.push(`${rel}: a light entry, imports ${spec}, which is not one`);
      if (target.startsWith('..')) {
        problems.push(`${rel}: imports ${spec}, outside agent/src`);
        continue;
      }
      const tmod = target.includes(sep) ? target.split(sep)[0] : null;
      if (mod === null || mod === 'cli' || tmod === mod || tmod === null) {
        if (mod !== null && mod !== 'cli' && tmod === null && !ROOTS.has(target.replace(/\.js$/, '.ts'))) {
          problems.push(`${rel}: imports the top-level ${spec}`);
        }
        if (tmod !== null && tmod !== mod && tmod !== 'gen' && !isEntry(tmod, target)) {
          problems.push(`${rel}: imports ${spec}; enter ${tmod} through its index.ts`);
        }
        continue;
      }
      if (mod === 'cli') continue;
      if (!(ALLOWED[mod] ?? []).includes(tmod))
        problems.push(`${rel}: ${mod} may not import ${tmod} (${spec})`);
      else if (tmod !== 'gen' && !isEntry(tmod, target))
        problems.push(`${rel}: imports ${spec}; enter ${tmod} through its index.ts`);
    } else if (mod && PURE.has(mod)) {
      const bare = spec.replace(/^node:/, '');
      if (IO_BUILTINS.includes(bare)) problems.push(`${rel}: ${mod} must do no I/O, yet imports ${spec}`);
    }
  }
}
problems.push(...cycles(graph));
for (const p of problems) console.error(`import rule: ${p}`);
console.log(`import rules: ${problems.length === 0 ? 'OK' : `${problems.length} violation(s)`}`);
process.exitCode = problems.length === 0 ? 0 : 1;

/**
 * Import cycles between files (type-only imports left out: they vanish at run
 * time). A cycle makes module start order depend on which file is loaded first.
 */
function cycles(g: Map<string, string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    path.push(f);
    for (const t of g.get(f) ?? []) {
      if (state.get(t) === 'open')
        found.push(`import cycle: ${[...path.slice(path.indexOf(t)), t].join(' -> ')}`);
      else if (!state.has(t) && g.has(t)) visit(t);
    }
    path.pop();
    state.set(f, 'done');
  };
  for (const f of [...g.keys()].sort()) if (!state.has(f)) visit(f);
  return found;
}
