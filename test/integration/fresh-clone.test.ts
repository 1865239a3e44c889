import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { it } from 'node:test';
import { repoRoot, tempDir } from '../helpers/paths.js';

// Spelled in pieces so that this file does not match its own search.
const SHARED = ['..', 'shared'].join('/');

// Without this, the test runner inside the clone sees it is nested in this one and runs nothing.
const { NODE_TEST_CONTEXT: _nested, ...env } = process.env;

const run = (cmd: string, args: string[], cwd: string) => {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}` };
};

function filesUnder(root: string, rel: string): string[] {
  const p = join(root, rel);
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p).flatMap((name) => filesUnder(root, join(rel, name)));
}

/** Runs the CLI over and over until `done` resolves; returns every exit code and any error output. */
async function hammer(clone: string, done: Promise<unknown>): Promise<{ codes: number[]; errors: string[] }> {
  let finished = false;
  void done.then(() => {
    finished = true;
  });
  const codes: number[] = [];
  const errors: string[] = [];
  while (!finished) {
    const r = await new Promise<{ code: number; err: string }>((resolve) => {
      const c = spawn(process.execPath, [join(clone, 'bin', 'edge-agent.js'), '--version'], { cwd: clone });
      let err = '';
      c.stderr.on('data', (d) => {
        err += d;
      });
      c.on('close', (code) => resolve({ code: code ?? -1, err }));
    });
    codes.push(r.code);
    if (r.err) errors.push(r.err);
  }
  return { codes, errors };
}

it('a fresh clone with no shared folder beside it builds, passes a test file, and survives a rebuild', async () => {
  const t = tempDir('edge-agent-clone-');
  try {
    const clone = join(t.dir, 'edge-agent');
    const head = run('git', ['rev-parse', 'HEAD'], repoRoot).out.trim();
    const c = run('git', ['clone', '-q', '--no-hardlinks', repoRoot, clone], t.dir);
    assert.equal(c.code, 0, c.out);
    assert.equal(run('git', ['checkout', '-q', '--detach', head], clone).code, 0);
    assert.ok(!existsSync(join(clone, SHARED)), 'nothing beside the clone');
    // The dependencies are this checkout's (npm ci would compile better-sqlite3 for minutes).
    symlinkSync(join(repoRoot, 'node_modules'), join(clone, 'node_modules'), 'dir');

    // Nothing a user or a test reads points outside the repository. The bench alone may use a
    // CI tool that sits there (slowfs), and says "skipped" without it.
    const offenders = ['agent', 'scripts', 'test', 'docs', 'README.md']
      .flatMap((d) => filesUnder(clone, d))
      .filter((f) => !relative(clone, f).startsWith('scripts/bench/'))
      .filter((f) => readFileSync(f, 'utf8').includes(SHARED))
      .map((f) => relative(clone, f));
    assert.deepEqual(offenders, []);

    const build = run(process.execPath, ['scripts/build.mjs'], clone);
    assert.equal(build.code, 0, build.out);
    const test = run(process.execPath, ['scripts/run-tests.mjs', 'unit/telemetry/wycheproof'], clone);
    assert.equal(test.code, 0, test.out);
    assert.match(test.out, /agrees with all 151 Wycheproof Ed25519 vectors/);
    assert.match(test.out, /pass 1\b/);
    assert.match(test.out, /fail 0\b/);

    // A rebuild while commands run: each one finds a complete dist/ (the old or the new).
    const rebuild = new Promise<{ code: number | null }>((resolve) => {
      const b = spawn(process.execPath, ['scripts/build.mjs'], { cwd: clone, stdio: 'ignore' });
      b.on('close', (code) => resolve({ code }));
    });
    const h = await hammer(clone, rebuild);
    assert.equal((await rebuild).code, 0);
    assert.ok(h.codes.length > 0);
    assert.deepEqual(
      h.codes.filter((x) => x !== 0),
      [],
      `commands failed during the rebuild: ${h.errors.join('\n')}`,
    );
    assert.deepEqual(
      readdirSync(clone).filter((n) => n.startsWith('dist')),
      ['dist'],
      'no build folder left behind',
    );
  } finally {
    t.cleanup();
  }
});
