import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cli, writeConfig } from '../../helpers/agent.js';
import { tempDir } from '../../helpers/paths.js';

/** Every file under `dir` whose bytes contain `needle`. */
function grepTree(dir: string, needle: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile() && readFileSync(f).includes(needle));
}

describe('wipe', () => {
  const t = tempDir();
  after(() => t.cleanup());

  it('leaves no private key under the data and identity folders: renewal pairs and crash temp files included', () => {
    const config = writeConfig(t.dir);
    assert.equal(cli(['identity', 'init'], { config }).code, 0);
    const pem = readFileSync(join(t.dir, 'gw.key'), 'utf8');
    // What a renewal and a crash leave beside the keys.
    for (const f of ['gw.key.next', 'gw.key.prev', '.gw.key.5f2a9c01d3e4.tmp', '.gw.key.4242.tmp'])
      writeFileSync(join(t.dir, f), pem, { mode: 0o600 });
    writeFileSync(join(t.dir, 'data/identity/.signing.key.77aa.tmp'), pem, { mode: 0o600 });
    assert.ok(grepTree(t.dir, 'PRIVATE KEY').length >= 7);
    const r = cli(['wipe', '--yes', '--json'], { config });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(grepTree(t.dir, 'PRIVATE KEY'), []);
    const erased = (JSON.parse(r.stdout) as { erased: { path: string }[] }).erased.map((e) => e.path);
    for (const f of ['gw.key.next', 'gw.key.prev', '.gw.key.5f2a9c01d3e4.tmp'])
      assert.ok(erased.includes(join(t.dir, f)), `${f} in the report`);
    assert.ok(readdirSync(t.dir).includes('config.json'), 'the config stays');
  });
});
