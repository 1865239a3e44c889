import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const core = new URL('../../../agent/src/core/index.js', import.meta.url).href;
const daemon = new URL('../../../agent/src/daemon/index.js', import.meta.url).href;
const config = new URL('../../../agent/src/config/index.js', import.meta.url).href;
const dir = mkdtempSync(join(tmpdir(), 'edge-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { level: number; msg: string; n?: number; err?: { message: string } });

/** Runs an ES module script in its own process; the log file is `dir/<name>/agent.log`. */
function run(name: string, body: string) {
  const file = join(dir, name, 'agent.log');
  const script = `
    const { createLogger, flushLogSync } = await import(${JSON.stringify(core)});
    const { installCrashHandlers } = await import(${JSON.stringify(daemon)});
    const { openLogFile } = await import(${JSON.stringify(config)});
    const log = createLogger({ fd: openLogFile(${JSON.stringify(file)}) });
    ${body}
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return { ...r, file };
}

describe('logging off the event loop', () => {
  it('does not write the lines in the call that logs them, and writes them all by exit', () => {
    const r = run(
      'async',
      `
      const { readFileSync } = await import('node:fs');
      for (let n = 0; n < 2000; n++) log.info({ n }, 'reading accepted');
      // Still in the same tick: a synchronous destination would hold all 2000 lines by now.
      const now = readFileSync(${JSON.stringify(join(dir, 'async', 'agent.log'))}, 'utf8').split('\\n').length - 1;
      console.log(now);
    `,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Number(r.stdout.trim()) < 2000, `only ${r.stdout.trim()} of 2000 lines written synchronously`);
    const got = lines(r.file);
    assert.equal(got.length, 2000, 'every line is on disk after a normal exit');
    assert.deepEqual(
      got.map((l) => l.n),
      Array.from({ length: 2000 }, (_, n) => n),
      'in order',
    );
  });

  it("keeps a fatal error's line, last, after the crash handler exits with code 2", () => {
    const r = run(
      'fatal',
      `
      installCrashHandlers(log);
      for (let n = 0; n < 2000; n++) log.info({ n }, 'reading accepted');
      setTimeout(() => console.log('still running'), 500);
      throw new Error('the outbox worker died');
    `,
    );
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '', 'it stopped at once');
    const got = lines(r.file);
    assert.equal(got.length, 2001, 'nothing logged before the crash is lost');
    const last = got.at(-1);
    assert.equal(last?.level, 60);
    assert.equal(last?.err?.message, 'the outbox worker died');
  });

  it('flushLogSync writes out pending lines before a bare process.exit', () => {
    const r = run(
      'exit',
      `
      for (let n = 0; n < 500; n++) log.warn({ n }, 'disk almost full');
      log.fatal('giving up');
      flushLogSync(log);
      process.exit(3);
    `,
    );
    assert.equal(r.status, 3, r.stderr);
    const got = lines(r.file);
    assert.equal(got.length, 501);
    assert.equal(got.at(-1)?.msg, 'giving up');
  });
});
