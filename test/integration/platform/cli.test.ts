// edge-platform's CLI: every command's help, the registry commands on a PGlite store, and
// bad input answered in one line (or one JSON object) with exit 2, never a stack trace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONSOLE_MIGRATIONS } from '../../../platform/src/console/index.js';
import { SimDevice } from '../../../scripts/lib/sim-device.js';
import { repoRoot, tempDir } from '../../helpers/paths.js';
import { pgliteStore } from '../../helpers/platform.js';

const BIN = join(repoRoot, 'bin', 'edge-platform.js');
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const noStack = (r: { stdout: string; stderr: string }) =>
  assert.doesNotMatch(r.stdout + r.stderr, /^\s+at /m, 'no stack trace');

describe('edge-platform CLI', () => {
  const t = tempDir('edge-platform-cli-');
  let store = '';
  before(async () => {
    store = await pgliteStore(join(t.dir, 'db'));
  });
  after(() => t.cleanup());

  it('every command answers --help with exit 0', () => {
    for (const args of [['--help'], ['collector', '--help'], ['devices', '--help'], ['migrate', '--help']]) {
      const r = run(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /Usage: edge-platform/);
    }
  });

  it('devices add, import, list, revoke; migrate --status', () => {
    const a = new SimDevice('gw-cli-a');
    const b = new SimDevice('gw-cli-b');
    let r = run([
      'devices',
      'add',
      'gw-cli-a',
      '--key',
      a.entry.signingPublicKey,
      '--site',
      'Dock 4',
      '--group',
      'harbour',
      '--store',
      store,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const file = join(t.dir, 'registry.json');
    writeFileSync(file, JSON.stringify([b.entry]));
    // The environment names the store when --store does not.
    r = run(['devices', 'import', file], { EDGE_PLATFORM_STORE: store });
    assert.equal(r.code, 0, r.stderr);
    r = run(['devices', 'revoke', 'gw-cli-b', '--key', b.keyId, '--store', store]);
    assert.equal(r.code, 0, r.stderr);
    r = run(['devices', 'list', '--json', '--store', store]);
    const list = JSON.parse(r.stdout) as {
      deviceId: string;
      site: string | null;
      keys: { revokedAt: string | null }[];
    }[];
    assert.deepEqual(
      list.map((d) => [d.deviceId, d.site, d.keys[0].revokedAt !== null]),
      [
        ['gw-cli-a', 'Dock 4', false],
        ['gw-cli-b', null, true],
      ],
    );
    r = run(['migrate', '--status', '--json', '--store', store]);
    assert.equal(JSON.parse(r.stdout).version, 1);
    assert.equal(JSON.parse(r.stdout).console.version, 0, '--status changes nothing');
    const all = CONSOLE_MIGRATIONS.map((m) => m.version);
    r = run(['migrate', '--json', '--store', store]);
    assert.deepEqual(JSON.parse(r.stdout).console, { version: all.at(-1), latest: all.at(-1), applied: all });
    r = run(['migrate', '--store', store]);
    assert.match(r.stdout, /nothing to apply; console \d+, nothing to apply/);
  });

  it('bad input: one line naming the field, or a JSON error, exit 2, nothing stored', () => {
    const cases: [string[], RegExp][] = [
      [
        ['devices', 'add', 'gw-x', '--key', 'abc'],
        /signingPublicKey: must be base64 of a raw 32-byte Ed25519 key/,
      ],
      [['devices', 'add', 'gw x'], /deviceId: not a valid device id/],
      [['devices', 'add', 'gw-x', '--lat', 'north'], /lat: must be a number/],
      [['devices', 'revoke', 'nobody'], /not in the registry/],
      [['devices', 'list', '--store', 'mysql://db'], /neither postgres:\/\/USER@HOST\/DB nor pglite:DIR/],
      [['collector', '--url', 'mqtts://x:1'], /--ca is required/],
      [['nope'], /unknown command "nope"/],
    ];
    for (const [args, message] of cases) {
      const withStore = args.includes('--store') ? args : [...args, '--store', store];
      const r = run(withStore);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
      noStack(r);
      const j = run([...withStore, '--json']);
      assert.equal(j.code, 2);
      assert.match(JSON.parse(j.stdout).error.message, message);
    }
    const r = run(['devices', 'list', '--json', '--store', store]);
    assert.ok(!JSON.parse(r.stdout).some((d: { deviceId: string }) => d.deviceId === 'gw-x'));
  });

  it('an unreachable PostgreSQL is one line, exit 2', () => {
    const r = run(['migrate', '--store', 'postgres://postgres@127.0.0.1:1/none']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /STORE_UNAVAILABLE/);
    noStack(r);
  });
});
