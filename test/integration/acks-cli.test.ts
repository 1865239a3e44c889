import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { cli, writeConfig } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { docKey, makeDoc } from '../helpers/trust.js';

const t = tempDir();
after(() => t.cleanup());

it('doctor says why acks cannot delete rows until `enroll --keys` installs a root-signed collector key', () => {
  const root = docKey();
  const collector = docKey();
  const config = writeConfig(t.dir, {
    trust: { rootKey: root.b64 },
    mqtt: { url: 'mqtts://127.0.0.1:1', ca: 'ca.crt', cert: 'gw.crt', key: 'gw.key' },
    sync: { connectTimeoutMs: 1000 },
  });
  assert.equal(cli(['identity', 'init'], { config }).code, 0);
  const acks = () =>
    (
      JSON.parse(cli(['doctor', '--json'], { config }).stdout) as {
        checks: { id: string; status: string; detail: string; fix?: string }[];
      }
    ).checks.find((c) => c.id === 'acks');
  const before = acks();
  assert.equal(before?.status, 'warn');
  assert.match(before?.detail ?? '', /no keys document names a collector key yet: .*every row is kept/);
  assert.match(before?.fix ?? '', /edge\/v1\/gw-test\/keys/);

  const body = { roles: { collector: { publicKeys: [collector.b64] } } };
  const forged = join(t.dir, 'forged-keys.json');
  writeFileSync(forged, makeDoc('keys', 1, body, docKey()));
  const refused = cli(['enroll', '--keys', forged], { config });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /BAD_SIGNATURE: no valid signature by a current root key/);
  assert.equal(acks()?.status, 'warn', 'a forged document installs nothing');

  const good = join(t.dir, 'keys.json');
  writeFileSync(good, makeDoc('keys', 1, body, root));
  const r = cli(['enroll', '--keys', good], { config });
  assert.match(r.stdout, /keys document v1: collector key [0-9a-f]{16}/);
  const after = acks();
  assert.equal(after?.status, 'pass');
  assert.match(after?.detail ?? '', /acks verified with collector key [0-9a-f]{16}/);
});
