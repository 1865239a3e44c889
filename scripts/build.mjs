#!/usr/bin/env node
// Build: generate static protobuf code from proto/ (never parsed at run time), then compile TypeScript.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const gen = join(root, 'agent', 'src', 'gen');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

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
rmSync(join(root, 'dist'), { recursive: true, force: true });
run(bin('tsc'), ['-p', 'tsconfig.json']);
// tsc does not copy plain .js sources: the generated codec goes next to its compiled importers.
cpSync(join(gen, 'edge.js'), join(root, 'dist', 'agent', 'src', 'gen', 'edge.js'));
