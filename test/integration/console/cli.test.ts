import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDatabase } from '../../../scripts/lib/pg-temp.js';
import { TestPki } from '../../../scripts/lib/test-pki.js';
import { ConsoleClient } from '../../helpers/console.js';
import { repoRoot, tempDir } from '../../helpers/paths.js';

const BIN = join(repoRoot, 'bin', 'edge-platform.js');

describe('edge-platform users and console (real PostgreSQL)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let dir: { dir: string; cleanup: () => void };
  const run = (args: string[], input?: string) =>
    spawnSync(process.execPath, [BIN, ...args, '--store', db.url], {
      encoding: 'utf8',
      input,
      timeout: 60_000,
    });

  before(async () => {
    db = await tempDatabase('edge_console_cli');
    dir = tempDir('console-cli-');
  });
  after(async () => {
    await db?.drop();
    dir?.cleanup();
  });

  it('users add prints a one-time password once, or takes one on stdin; bad input exits 2 naming the problem', () => {
    const a = run(['users', 'add', 'alice', '--role', 'admin']);
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stdout, /^alice \(admin\) added\none-time password \(shown once\): [A-Za-z0-9_-]{20}\n$/);
    const b = run(
      ['users', 'add', 'bob', '--role', 'operator', '--password-stdin', '--json'],
      'lamp-post kilowatt 7\n',
    );
    assert.equal(b.status, 0, b.stderr);
    assert.deepEqual(JSON.parse(b.stdout).user.role, 'operator');
    assert.equal(JSON.parse(b.stdout).password, undefined, 'a given password is never echoed');
    const weak = run(['users', 'add', 'carl', '--role', 'viewer', '--password-stdin', '--json'], 'short\n');
    assert.equal(weak.status, 2);
    assert.deepEqual(JSON.parse(weak.stdout).error.code, 'WEAK_PASSWORD');
    const role = run(['users', 'add', 'carl', '--role', 'root']);
    assert.equal(role.status, 2);
    assert.match(role.stderr, /--role viewer\|operator\|admin \[USAGE\]/);
    const dup = run(['users', 'add', 'alice', '--role', 'viewer']);
    assert.equal(dup.status, 2);
    assert.match(dup.stderr, /already exists \[USER_EXISTS\]/);
    const list = run(['users', 'list', '--json']);
    assert.deepEqual(
      JSON.parse(list.stdout).map((u: { username: string; role: string }) => `${u.username}:${u.role}`),
      ['alice:admin', 'bob:operator'],
    );
  });

  it('console serves HTTPS with the given certificate; the CLI-made account logs in; SIGTERM stops it', async () => {
    const pki = new TestPki(join(dir.dir, 'pki'));
    const child = spawn(
      process.execPath,
      [
        BIN,
        'console',
        '--store',
        db.url,
        '--cert',
        pki.server.cert,
        '--key',
        pki.server.key,
        '--listen',
        '127.0.0.1:0',
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGE_PLATFORM_LOG: 'silent' } },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c;
          if (out.includes('\n')) resolve(out.split('\n')[0]);
        });
        child.on('exit', () => reject(new Error(`console exited early: ${out}`)));
      });
      const { url } = JSON.parse(line) as { url: string };
      const c = new ConsoleClient(url, readFileSync(pki.caFile, 'utf8'));
      assert.equal((await c.get('/api/v1/alerts')).status, 401);
      assert.equal((await c.login('bob', 'lamp-post kilowatt 7')).status, 200);
      assert.equal((await c.get('/api/v1/alerts')).status, 200);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  it('console without a certificate is a usage error', () => {
    const r = run(['console']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--cert FILE and --key FILE \[USAGE\]/);
  });
});
