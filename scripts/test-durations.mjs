// A node:test reporter (used by run-tests.mjs beside the spec reporter): after the run, each
// test file's time, the slowest first. The list of slow files that run-tests.mjs starts first
// comes from these figures; a file that grows slow shows up here.
import { relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

export default async function* durations(source) {
  /** File → summed time of its top-level tests (a file runs them one after another). */
  const files = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { nesting, file, details } = event.data;
    if (nesting !== 0 || !file) continue;
    files.set(file, (files.get(file) ?? 0) + (details?.duration_ms ?? 0));
  }
  if (files.size === 0) return;
  const rows = [...files].sort((a, b) => b[1] - a[1]);
  yield `\ntest files by time (${rows.length}, slowest first):\n`;
  for (const [file, ms] of rows) yield `${(ms / 1000).toFixed(1).padStart(8)} s  ${relative(root, file)}\n`;
}
