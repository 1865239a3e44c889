import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkDocument,
  checkProfilesDocument,
  type DocType,
  type SignedDoc,
  signDocument,
  TrustStore,
} from '../../../agent/src/trust/index.js';
import { type DocKey, docKey, shippedProfiles } from '../../helpers/trust.js';
import { addDefect, emptyResult, type Row } from '../lib.js';

const NOW = Date.parse('2026-11-27T00:00:00Z');
/** The highest version already seen of each type before the matrix runs. */
const SEEN = 10;

/**
 * The OTA matrix: every combination of signer, version, expiry, target and type,
 * for config, keys and profiles documents, with the clock trusted or not. Only the
 * combination that is right on every axis may be accepted.
 */
/** The vulnerability feed shares the profiles channel; its own matrix is in the software tests. */
type Channel = Exclude<DocType, 'vulnerabilities'>;

export const s3: Row = {
  id: 'S3',
  what: 'replayed, downgraded, expired, wrong-target, wrong-type, wrongly signed OTA documents applied',
  async run(ctx) {
    const r = emptyResult('cases');
    const root = docKey();
    const oldConfig = docKey();
    const config = docKey();
    const profiles = docKey();
    const collector = docKey();
    const stranger = docKey();
    const dir = join(ctx.dir, 'trust');
    mkdirSync(dir, { recursive: true });
    const store = new TrustStore(dir, root.b64);
    store.load();
    const keys = (v: number, cfg: DocKey) => ({
      type: 'keys' as const,
      version: v,
      issuedAt: '2026-11-26T00:00:00Z',
      body: {
        roles: {
          config: { publicKeys: [cfg.b64] },
          profiles: { publicKeys: [profiles.b64] },
          collector: { publicKeys: [collector.b64] },
        },
      },
    });
    store.applyKeys(keys(1, oldConfig));
    store.applyKeys(keys(SEEN, config)); // revokes oldConfig
    for (const t of ['config', 'profiles'] as const) store.markSeen(t, SEEN);

    const signerOf: Record<Channel, DocKey> = { config, keys: root, profiles };
    const signers: { name: string; keys: (t: Channel) => DocKey[]; good: boolean }[] = [
      { name: 'its role key', keys: (t) => [signerOf[t]], good: true },
      { name: 'a revoked key', keys: () => [oldConfig], good: false },
      { name: 'an unknown key', keys: () => [stranger], good: false },
      { name: 'the collector key', keys: () => [collector], good: false },
      { name: 'another role key', keys: (t) => [t === 'config' ? profiles : config], good: false },
      { name: 'the root key', keys: (t) => [t === 'keys' ? config : root], good: false },
      { name: 'a stranger then its role key, swapped', keys: (t) => [stranger, signerOf[t]], good: true },
      { name: 'no signature', keys: () => [], good: false },
    ];
    const versions: { name: string; v: unknown; fresh: boolean | 'equal' }[] = [
      { name: 'fresh', v: SEEN + 1, fresh: true },
      { name: 'replayed', v: SEEN, fresh: 'equal' },
      { name: 'downgraded', v: SEEN - 3, fresh: false },
      { name: 'zero', v: 0, fresh: false },
      { name: 'past 2^53', v: 2 ** 53 + 2, fresh: false },
      { name: 'a string', v: String(SEEN + 1), fresh: false },
      { name: 'fractional', v: SEEN + 1.5, fresh: false },
    ];
    const expiries: { name: string; notAfter?: unknown; ok: boolean; needsClock: boolean }[] = [
      { name: 'no expiry', ok: true, needsClock: false },
      { name: 'valid until 2027', notAfter: '2027-01-01T00:00:00Z', ok: true, needsClock: true },
      { name: 'expired', notAfter: '2026-11-01T00:00:00Z', ok: false, needsClock: true },
      { name: 'expiry not a time', notAfter: 'tomorrow', ok: false, needsClock: true },
    ];
    const targetsList: { name: string; target?: unknown; ok: boolean }[] = [
      { name: 'every device', ok: true },
      { name: 'this device', target: { devices: ['gw-ota'] }, ok: true },
      { name: 'this group', target: { groups: ['north'] }, ok: true },
      { name: 'another device', target: { devices: ['gw-other'] }, ok: false },
      { name: 'another group', target: { groups: ['south'] }, ok: false },
      { name: 'nobody', target: { devices: [] }, ok: false },
      { name: 'a device id as a string', target: { devices: 'gw-ota' }, ok: false },
    ];
    const bodyOf: Record<Channel, unknown> = {
      config: { batching: { telemetry: { maxItems: 7, maxDelayMs: 50 } } },
      keys: keys(0, config).body,
      profiles: { profiles: shippedProfiles().slice(0, 1) },
    };
    const types: Channel[] = ['config', 'keys', 'profiles'];
    // --quick runs a seeded fifth of the wrong combinations.
    const channels = types;
    let accepted = 0;
    let shouldAccept = 0;
    for (const channel of channels)
      for (const claimed of [...types, 'Config', undefined] as unknown[])
        for (const s of signers)
          for (const v of versions)
            for (const x of expiries)
              for (const t of targetsList) {
                const replayOk = channel === 'profiles' && v.fresh === 'equal';
                const rightButClock =
                  s.good && claimed === channel && (v.fresh === true || replayOk) && x.ok && t.ok;
                if (ctx.quick && !rightButClock && ctx.rng.next() > 0.2) continue;
                const doc = {
                  type: claimed as DocType,
                  version: v.v as number,
                  issuedAt: '2026-11-26T10:00:00Z',
                  ...(x.notAfter !== undefined ? { notAfter: x.notAfter as string } : {}),
                  ...(t.target !== undefined ? { target: t.target as { devices: string[] } } : {}),
                  body: bodyOf[channel],
                };
                const raw = signAs(doc, s.keys(channel));
                for (const clockTrusted of [true, false]) {
                  r.cases++;
                  const expected = rightButClock && (!x.needsClock || clockTrusted);
                  let got = false;
                  try {
                    if (channel === 'profiles')
                      got = Boolean(
                        checkProfilesDocument(raw, store, 1 << 20, {
                          deviceId: 'gw-ota',
                          groups: ['north'],
                          nowMs: NOW,
                          clockTrusted,
                        }),
                      );
                    else
                      got =
                        checkDocument(raw, {
                          store,
                          deviceId: 'gw-ota',
                          groups: ['north'],
                          nowMs: NOW,
                          clockTrusted,
                          maxBytes: 1 << 20,
                        }).type === channel;
                  } catch (e) {
                    if ((e as { name?: string }).name !== 'DocumentError') {
                      r.crashes++;
                      addDefect(r, `${channel} document threw ${(e as Error).stack}`);
                    }
                  }
                  if (got) accepted++;
                  if (expected) shouldAccept++;
                  const what = `${channel} channel, type ${String(claimed)}, signed by ${s.name}, version ${v.name}, ${x.name}, target ${t.name}, clock ${clockTrusted ? 'trusted' : 'untrusted'}`;
                  if (got && !expected) addDefect(r, `applied: ${what}`, 8);
                  else if (!got && expected) addDefect(r, `a good document was refused: ${what}`, 8);
                }
              }
    r.notes = `${accepted} accepted of ${r.cases} (the ${shouldAccept} right on every axis should be)`;
    return r;
  },
};

/** The container of `doc` signed by `signers` (none: an empty signature list). */
function signAs(doc: SignedDoc, signers: DocKey[]): Buffer {
  if (signers.length > 0) return Buffer.from(signDocument(doc, signers));
  return Buffer.from(
    JSON.stringify({ signed: Buffer.from(JSON.stringify(doc)).toString('base64'), signatures: [] }),
  );
}
