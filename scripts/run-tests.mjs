#!/usr/bin/env node
// Runs every compiled test file with Node's test runner; pass paths or substrings to filter.
//
// Files run in parallel processes (EDGE_TEST_CONCURRENCY, default 2; 1 runs them one at a
// time). Node's own default is one fewer than the cores, so on a 2-core machine the suite ran
// strictly one file after another (13 min), although most files spend their time waiting on
// brokers, PostgreSQL, daemons and timers, not on the CPU. Each file is its own process with
// its own temporary folders, broker ports and databases, as when helpers share the machine.
// The slowest files start first so that they overlap the many short ones instead of ending
// the run alone; after the run every file's time is printed (scripts/test-durations.mjs).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.test.js') ? [join(dir, e.name)] : [],
  );

/**
 * The slowest files, slowest first: from runs one file at a time at load ~3, pg-away (both
 * cases, now pg-away and pg-stall) 130 s, kill (both, now kill and kill-pglite) 84 s, the CLI
 * 66 s, signed acks 64 s; two at a time at load ~10, the platform CLI 89 s and the delivery
 * model 71 s. The printout after each run says when this list needs changing.
 */
const SLOW_FIRST = [
  'integration/platform/pg-away.test.js',
  'integration/platform/pg-stall.test.js',
  'integration/platform/kill.test.js',
  'integration/platform/cli.test.js',
  'unit/sync/ledger-model.test.js',
  'integration/cli.test.js',
  'integration/signed-acks.test.js',
  'integration/platform/kill-pglite.test.js',
];
/** Then the other integration and stress files (seconds to a minute each), then the unit files. */
const rank = (f) => {
  const slow = SLOW_FIRST.findIndex((s) => f.endsWith(s));
  if (slow >= 0) return slow;
  return f.includes('/unit/') ? SLOW_FIRST.length + 1 : SLOW_FIRST.length;
};

const filters = process.argv.slice(2);
const files = walk(join(root, 'dist', 'test'))
  .filter((f) => filters.length === 0 || filters.some((x) => relative(root, f).includes(x)))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(2);
}
const concurrency = Number(process.env.EDGE_TEST_CONCURRENCY ?? 2);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error('EDGE_TEST_CONCURRENCY must be a whole number of at least 1');
  process.exit(2);
}
const r = spawnSync(
  process.execPath,
  [
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts', 'test-durations.mjs')}`,
    '--test-reporter-destination=stdout',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
