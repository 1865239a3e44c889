import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkDocument, TRUST_CORRUPT_MARKER, TrustStore } from '../../../agent/src/trust/index.js';
import { tempDir } from '../../helpers/paths.js';
import { docKey, makeDoc } from '../../helpers/trust.js';

describe('trust: a corrupt trust.json', () => {
  const t = tempDir('edge-trust-corrupt-');
  after(() => t.cleanup());
  const root = docKey();
  const configKey = docKey();
  const ctx = (store: TrustStore) => ({
    store,
    deviceId: 'gw-test',
    groups: [],
    nowMs: Date.UTC(2026, 10, 27),
    clockTrusted: true,
    maxBytes: 65536,
  });

  it('is quarantined, never replaced by the pinned root, and every document is refused until re-pinned', () => {
    const store = new TrustStore(t.dir, root.b64, () => 1234);
    store.load();
    store.applyKeys({
      type: 'keys',
      version: 1,
      issuedAt: '2026-11-26T00:00:00Z',
      body: { roles: { config: { publicKeys: [configKey.b64] } } },
    });
    store.markSeen('config', 7);
    writeFileSync(join(t.dir, 'trust.json'), '{"root": ["trunc');

    const after = new TrustStore(t.dir, root.b64, () => 1234);
    after.load(true);
    assert.equal(after.corrupt, join(t.dir, 'trust.json.quarantined-1234'));
    assert.ok(existsSync(join(t.dir, 'trust.json.quarantined-1234')), 'kept for forensics');
    assert.ok(!existsSync(join(t.dir, 'trust.json')), 'no fresh store with empty floors');
    assert.equal(after.hasRoot, false, 'not even the pinned root');
    for (const doc of [
      makeDoc('config', 8, { log: { level: 'debug' } }, configKey),
      makeDoc('keys', 2, { roles: { config: { publicKeys: [configKey.b64] } } }, root),
    ])
      assert.throws(() => checkDocument(doc, ctx(after)), { code: 'STORE_CORRUPT' });
    after.markSeen('config', 9);
    assert.ok(!existsSync(join(t.dir, 'trust.json')), 'a corrupt store never writes a new file');

    const restarted = new TrustStore(t.dir, root.b64);
    restarted.load(true);
    assert.ok(restarted.corrupt, 'still refusing after a restart (the marker)');

    // The technician restores the backup (here: the state before the damage) and removes the marker.
    writeFileSync(
      join(t.dir, 'trust.json'),
      JSON.stringify({ root: [root.b64], roles: { config: [configKey.b64] }, seen: { config: 7, keys: 1 } }),
    );
    rmSync(join(t.dir, TRUST_CORRUPT_MARKER));
    restarted.load(true);
    assert.equal(restarted.corrupt, null);
    assert.throws(() => checkDocument(makeDoc('config', 7, {}, configKey), ctx(restarted)), {
      code: 'STALE_VERSION',
    });
    assert.equal(checkDocument(makeDoc('config', 8, {}, configKey), ctx(restarted)).type, 'config');
    assert.deepEqual(
      readdirSync(t.dir)
        .filter((f) => f.startsWith('trust.json'))
        .sort(),
      ['trust.json', 'trust.json.quarantined-1234'],
    );
    assert.equal(
      JSON.parse(readFileSync(join(t.dir, 'trust.json'), 'utf8')).seen.config,
      7,
      'checking saves nothing',
    );
  });
});
