import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, beforeEach, describe, it } from 'node:test';
import { checkDocument, DocumentError, type OtaContext, TrustStore } from '../../../agent/src/trust/index.js';
import { tempDir } from '../../helpers/paths.js';
import { docKey, makeDoc } from '../../helpers/trust.js';

const root = docKey();
const cfgKey = docKey();
const profKey = docKey();
const t = tempDir();
after(() => t.cleanup());
let n = 0;
let store: TrustStore;
let ctx: OtaContext;

const code = (raw: Uint8Array, c: Partial<OtaContext> = {}): string => {
  try {
    checkDocument(raw, { ...ctx, ...c });
    return 'accepted';
  } catch (e) {
    assert.ok(e instanceof DocumentError, `a DocumentError, not ${String(e)}`);
    return e.code;
  }
};

describe('trust: signed documents', () => {
  beforeEach(() => {
    store = new TrustStore(`${t.dir}/s${n++}`, root.b64);
    store.load();
    store.applyKeys({
      type: 'keys',
      version: 1,
      issuedAt: '2026-11-26T10:00:00Z',
      body: { roles: { config: { publicKeys: [cfgKey.b64] }, profiles: { publicKeys: [profKey.b64] } } },
    });
    ctx = {
      store,
      deviceId: 'gw-1',
      groups: ['north'],
      nowMs: Date.UTC(2026, 10, 26, 12),
      clockTrusted: true,
      maxBytes: 65_536,
    };
  });

  it('accepts a config document signed by the config key and gives its settings', () => {
    const a = checkDocument(makeDoc('config', 5, { batching: { telemetry: { maxItems: 10 } } }, cfgKey), ctx);
    assert.equal(a.type, 'config');
    assert.equal(a.doc.version, 5);
  });

  it('rejects each kind of bad document with its own reason, nothing changed', () => {
    const ok = { batching: { telemetry: { maxItems: 10 } } };
    store.markSeen('config', 5);
    const bad: [string, Uint8Array, Partial<OtaContext>?][] = [
      ['STALE_VERSION', makeDoc('config', 5, ok, cfgKey)],
      ['STALE_VERSION', makeDoc('config', 3, ok, cfgKey)],
      ['BAD_SIGNATURE', makeDoc('config', 6, ok, docKey())],
      ['BAD_SIGNATURE', makeDoc('config', 6, ok, profKey)],
      ['WRONG_TYPE', makeDoc('profiles', 6, ok, cfgKey)],
      ['NOT_TARGETED', makeDoc('config', 6, ok, cfgKey, { target: { devices: ['gw-2'] } })],
      ['EXPIRED', makeDoc('config', 6, ok, cfgKey, { notAfter: '2026-11-01T00:00:00Z' })],
      [
        'DEFERRED',
        makeDoc('config', 6, ok, cfgKey, { notAfter: '2026-12-01T00:00:00Z' }),
        { clockTrusted: false },
      ],
      ['MALFORMED', Buffer.from('{"signed": 42}')],
      ['MALFORMED', Buffer.from('not json at all')],
      ['SCHEMA', makeDoc('config', 6, { storage: { dir: '/tmp/x' } }, cfgKey)],
      ['SCHEMA', makeDoc('config', 6, { nonsense: 1 }, cfgKey)],
      ['TOO_LARGE', makeDoc('config', 6, { pad: 'x'.repeat(70_000) }, cfgKey)],
      ['WRONG_TYPE', makeDoc('keys', 2, { roles: { config: { publicKeys: [docKey().b64] } } }, cfgKey)],
      ['BAD_SIGNATURE', makeDoc('keys', 2, { roles: { config: { publicKeys: [docKey().b64] } } }, docKey())],
    ];
    for (const [want, raw, c] of bad)
      assert.equal(code(raw, c), want, `${want}: ${raw.subarray(0, 60).toString()}`);
    assert.match(
      String(
        (() => {
          try {
            checkDocument(makeDoc('config', 6, { storage: { dir: '/x' } }, cfgKey), ctx);
          } catch (e) {
            return (e as Error).message;
          }
        })(),
      ),
      /body\.storage\.dir: cannot be set remotely/,
    );
    assert.equal(
      code(makeDoc('config', 6, ok, cfgKey, { target: { groups: ['north'] } })),
      'accepted',
      'a group target reaches the device',
    );
    assert.equal(store.highestSeen('config'), 5, 'checking alone changes nothing');
  });

  it('a keys document revokes a role key, may lower its floor, and rotates the root only when the root signs', () => {
    const newCfg = docKey();
    store.markSeen('config', 1_000_000); // a stolen config key signed a version far ahead
    const keys = checkDocument(
      makeDoc('keys', 2, { roles: { config: { publicKeys: [newCfg.b64], minVersion: 7 } } }, root),
      ctx,
    );
    assert.equal(keys.type, 'keys');
    assert.deepEqual(store.applyKeys(keys.doc).rotated, ['config']);
    assert.equal(code(makeDoc('config', 8, {}, cfgKey)), 'BAD_SIGNATURE', 'the old key is revoked');
    assert.equal(code(makeDoc('config', 7, {}, newCfg)), 'accepted', 'the floor went back to 6');
    const newRoot = docKey();
    store.applyKeys(checkDocument(makeDoc('keys', 3, { root: newRoot.b64, roles: {} }, root), ctx).doc);
    assert.equal(
      code(makeDoc('keys', 4, { roles: {} }, root)),
      'BAD_SIGNATURE',
      'the old root no longer signs',
    );
    assert.equal(code(makeDoc('keys', 4, { roles: {} }, newRoot)), 'accepted');
    const reloaded = new TrustStore(`${t.dir}/s${n - 1}`, root.b64);
    reloaded.load();
    assert.equal(reloaded.highestSeen('keys'), 3, 'the state is persisted');
  });

  it("a document for another device never spends this device's versions (v20 accepted after a v1000 replay)", () => {
    const body = { batching: { telemetry: { maxItems: 10 } } };
    const replay = makeDoc('config', 1000, body, cfgKey, { target: { devices: ['gw-2'] } });
    const refuse = (raw: Uint8Array): DocumentError => {
      try {
        checkDocument(raw, ctx);
      } catch (e) {
        if (e instanceof DocumentError) return e;
      }
      throw new Error('expected a refusal');
    };
    const e = refuse(replay);
    assert.equal(e.code, 'NOT_TARGETED');
    assert.equal(store.noteRefused(e), true, 'reported once');
    assert.equal(store.noteRefused(refuse(replay)), false, 'the retained replay is not news again');
    assert.equal(store.highestSeen('config'), 0, 'no version spent');
    const a = checkDocument(makeDoc('config', 20, body, cfgKey), ctx);
    assert.equal(a.doc.version, 20, 'the legitimate v20 is accepted');
    // A document for this device that fails after its signature does count as seen.
    const bad = refuse(makeDoc('config', 21, { nonsense: 1 }, cfgKey));
    assert.equal(store.noteRefused(bad), true);
    assert.equal(store.highestSeen('config'), 21);
  });

  it('fuzz: 10,000 mutated documents, no crash, none accepted', () => {
    const good = makeDoc(
      'config',
      9,
      { batching: { telemetry: { maxItems: 10 }, events: { maxItems: 5 } }, log: { level: 'debug' } },
      cfgKey,
    );
    const signedStart = good.indexOf('"signed":"') + 10;
    let accepted = 0;
    for (let i = 0; i < 10_000; i++) {
      const m = Buffer.from(good);
      const r = randomBytes(4);
      const pos = signedStart + (r.readUInt16LE(0) % (m.length - signedStart));
      switch (i % 4) {
        case 0:
          m[pos] ^= 1 << (r[2] % 8);
          break;
        case 1:
          m[pos] = r[3];
          break;
        case 2:
          m[pos] = 'ABCDEFabcdef0123+/='.charCodeAt(r[3] % 19);
          break;
        default: {
          const cut = Buffer.concat([m.subarray(0, pos), m.subarray(pos + 1 + (r[3] % 8))]);
          if (code(cut) === 'accepted') accepted++;
          continue;
        }
      }
      if (m.equals(good)) continue;
      if (code(m) === 'accepted') accepted++;
    }
    assert.equal(accepted, 0);
    assert.equal(code(good), 'accepted', 'the original still passes');
  });
});
