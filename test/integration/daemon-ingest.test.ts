import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { loadSigningKey } from '../../agent/src/identity/index.js';
import { KeyRing, verifyEnvelope } from '../../agent/src/telemetry/index.js';
import { cli, exitOf, startDaemon, writeConfig } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';

describe('the daemon: ingest → seal → outbox', () => {
  const t = tempDir();
  let config: string;
  before(() => {
    config = writeConfig(t.dir);
    assert.equal(cli(['identity', 'init'], { config }).code, 0);
  });
  after(() => t.cleanup());

  it('accepts good lines, refuses bad ones by line and field, and keeps everything accepted after SIGTERM', async () => {
    const daemon = await startDaemon(config);
    const good = Array.from({ length: 500 }, (_, i) =>
      JSON.stringify({ sensor: 'aq-7', value: i, unit: 'ug/m3', ts: 1_764_150_000_000 + i }),
    );
    const input = [
      ...good.slice(0, 250),
      '{"sensor":"aq-7","value":[1]}',
      'garbage',
      ...good.slice(250),
    ].join('\n');
    const r = cli(['ingest'], { config, input });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^line 251: value: must be a number, string or boolean$/m);
    assert.match(r.stderr, /^line 252: \(line\): not valid JSON/m);
    assert.match(r.stderr, /500 of 502 line\(s\) accepted/);

    const ok = cli(['ingest', '--json'], { config, input: `${good[0]}\n` });
    assert.equal(ok.code, 0);
    assert.equal(JSON.parse(ok.stdout).accepted, 1);

    daemon.kill('SIGTERM');
    assert.deepEqual(await exitOf(daemon), { code: 0, signal: null });

    const status = JSON.parse(cli(['status', '--json'], { config }).stdout);
    assert.equal(status.running, false);
    const tel = status.buffer.streams.find((s: { stream: string }) => s.stream === 'telemetry');
    assert.equal(tel.pending.items, 501);

    const ring = new KeyRing();
    const id = loadSigningKey(join(t.dir, 'data', 'identity', 'signing.key'));
    ring.add('gw-test', id.publicKey);
    const db = new Database(join(t.dir, 'data', 'outbox.db'), { readonly: true });
    const values = db
      .prepare<[], { envelope: Buffer }>('SELECT envelope FROM outbox WHERE stream = 1 ORDER BY seq')
      .all()
      .flatMap((row) =>
        verifyEnvelope(row.envelope, ring).batch.readings.map((x) => x.value.value as number),
      );
    db.close();
    assert.equal(values.length, 501);
    assert.deepEqual(
      values.slice(0, 500),
      Array.from({ length: 500 }, (_, i) => i),
    );
  });

  it('exits 2 with a clear message when the daemon is not running', () => {
    const r = cli(['ingest'], { config, input: '{"sensor":"a","value":1}\n' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot reach the agent at .*agent\.sock.*is `edge-agent run` running\?/);
  });

  it('refuses an invalid config with exit code 2 and every field named', () => {
    const missing = cli(['config', 'check', '--config', join(t.dir, 'missing.json')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing\.json is invalid:\n {2}\(file\): no such file/);
    const other = join(t.dir, 'other');
    mkdirSync(other);
    const badCfg = writeConfig(other, { device: { id: 'no/slashes' }, mqtt: { url: 'x' } });
    const r2 = cli(['config', 'check'], { config: badCfg });
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /device\.id: "no\/slashes" must match/);
    assert.match(r2.stderr, /mqtt\.url: "x" must look like/);
    assert.match(r2.stderr, /mqtt\.ca: is required/);
  });

  it('prints help and the version', () => {
    const h = cli(['--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Usage: edge-agent <command>/);
    assert.match(cli(['--version']).stdout, /^\d+\.\d+\.\d+/);
    assert.equal(cli(['frobnicate']).code, 2);
  });
});
