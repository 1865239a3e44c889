import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClockQuality, Stream, securityEvent } from '../../../agent/src/core/index.js';
import { readBaseline, writeBaseline } from '../../../agent/src/integrity/index.js';
import {
  KeyRing,
  keyIdOf,
  openAck,
  rawPublicKey,
  seal,
  sealAck,
  VerifyError,
  verifyEd25519,
  verifyEnvelope,
  ZERO_HASH,
} from '../../../agent/src/telemetry/index.js';
import {
  checkDocument,
  checkProfilesDocument,
  DocumentError,
  TrustStore,
} from '../../../agent/src/trust/index.js';
import { repoRoot } from '../../helpers/paths.js';
import { docKey, makeDoc, shippedProfiles } from '../../helpers/trust.js';
import { addDefect, type Ctx, emptyResult, type Row, type RowResult } from '../lib.js';

/** Every single-bit flip of `bytes`; `judge` returns true when the flipped input was accepted. */
function flipAll(
  name: string,
  bytes: Uint8Array,
  judge: (b: Uint8Array) => boolean,
  isExpected: (e: unknown) => boolean,
  r: RowResult,
  /** --quick flips every bit of every `stride`-th byte (from a seeded offset); the full run every byte. */
  sample: { stride: number; offset: number } = { stride: 1, offset: 0 },
): void {
  for (let i = sample.offset % sample.stride; i < bytes.length; i += sample.stride) {
    for (let bit = 0; bit < 8; bit++) {
      const b = Buffer.from(bytes);
      b[i] ^= 1 << bit;
      r.cases++;
      try {
        if (judge(b)) addDefect(r, `${name}: flip of bit ${bit} of byte ${i} was accepted`);
      } catch (e) {
        if (!isExpected(e)) {
          r.crashes++;
          addDefect(r, `${name}: flip of bit ${bit} of byte ${i} threw ${(e as Error).stack ?? e}`);
        }
      }
    }
  }
}

const isVerifyError = (e: unknown) => e instanceof VerifyError;
const isDocError = (e: unknown) => e instanceof DocumentError;

function envelopes(r: RowResult): void {
  const { privateKey } = generateKeyPairSync('ed25519');
  const raw = rawPublicKey(privateKey);
  const keyId = keyIdOf(raw);
  const ring = new KeyRing();
  ring.add('gw-flip', raw);
  const ctx = {
    deviceId: 'gw-flip',
    signingKey: privateKey,
    keyId,
    nowMs: 1_764_150_000_000,
    clock: ClockQuality.SYNCED,
  };
  const head = { epoch: 4_503_599_627_370_495, seq: 2 ** 32 + 7, prevHash: new Uint8Array(32).fill(7) };
  const tel = seal(
    ctx,
    Stream.TELEMETRY,
    [
      {
        stream: Stream.TELEMETRY,
        reading: {
          sensorId: 'aq-7',
          tsMs: 1,
          unit: 'ug/m3',
          value: { kind: 'number', value: 12.5 },
          labels: { site: 'north' },
        },
      },
      {
        stream: Stream.TELEMETRY,
        reading: { sensorId: 'door', tsMs: 2, unit: '', value: { kind: 'flag', value: true }, labels: {} },
      },
    ],
    head,
  );
  const ev = seal(
    ctx,
    Stream.EVENTS,
    [{ stream: Stream.EVENTS, event: securityEvent('tamper.door_open', 'door', { gpio: '17' }, 3) }],
    { epoch: 9, seq: 0, prevHash: ZERO_HASH },
  );
  flipAll('telemetry envelope', tel.envelope, (b) => Boolean(verifyEnvelope(b, ring)), isVerifyError, r);
  flipAll('events envelope', ev.envelope, (b) => Boolean(verifyEnvelope(b, ring)), isVerifyError, r);
  const ack = sealAck(
    { deviceId: 'gw-flip', stream: Stream.TELEMETRY, epoch: 9, upToSeq: 2 ** 33 },
    privateKey,
    keyId,
  );
  flipAll('signed ack', ack, (b) => Boolean(openAck(b, ring)), isVerifyError, r);
}

function documents(ctx: Ctx, r: RowResult): void {
  const root = docKey();
  const config = docKey();
  const profiles = docKey();
  const dir = join(ctx.dir, 'trust');
  mkdirSync(dir, { recursive: true });
  const store = new TrustStore(dir, root.b64);
  store.load();
  store.applyKeys({
    type: 'keys',
    version: 1,
    issuedAt: '2026-11-26T00:00:00Z',
    body: { roles: { config: { publicKeys: [config.b64] }, profiles: { publicKeys: [profiles.b64] } } },
  });
  const ota = {
    store,
    deviceId: 'gw-flip',
    groups: ['north'],
    nowMs: Date.parse('2026-11-27T00:00:00Z'),
    clockTrusted: true,
    maxBytes: 1 << 20,
  };
  const cfgDoc = makeDoc('config', 5, { batching: { telemetry: { maxItems: 7, maxDelayMs: 50 } } }, config, {
    target: { groups: ['north'] },
    notAfter: '2027-01-01T00:00:00Z',
  });
  const keysDoc = makeDoc('keys', 2, { roles: { config: { publicKeys: [config.b64] } } }, root);
  // Sanity: the unflipped documents pass, or a flip "refused" would prove nothing.
  checkDocument(cfgDoc, ota);
  checkDocument(keysDoc, ota);
  const sample = ctx.quick ? { stride: 4, offset: ctx.rng.int(4) } : undefined;
  flipAll('config document', cfgDoc, (b) => Boolean(checkDocument(b, ota)), isDocError, r, sample);
  flipAll('keys document', keysDoc, (b) => Boolean(checkDocument(b, ota)), isDocError, r, sample);
  const bundle = makeDoc('profiles', 3, { profiles: shippedProfiles().slice(0, 2) }, profiles);
  checkProfilesDocument(bundle, store, 1 << 20, ota);
  flipAll(
    'profiles bundle',
    bundle,
    (b) => Boolean(checkProfilesDocument(b, store, 1 << 20, ota)),
    isDocError,
    r,
    sample,
  );

  // The integrity baseline is a signed document too, read back from disk.
  const { privateKey } = generateKeyPairSync('ed25519');
  const pub = rawPublicKey(privateKey);
  const file = join(ctx.dir, 'baseline.json');
  writeBaseline(
    file,
    {
      type: 'integrity-baseline',
      version: 1,
      deviceId: 'gw-flip',
      createdAt: '2026-11-26T00:00:00Z',
      root: '/',
      paths: ['/etc/passwd'],
      missing: [],
      entries: [
        { path: '/etc/passwd', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 10, sha256: 'ab'.repeat(32) },
      ],
    },
    privateKey,
    pub,
  );
  const good = readFileSync(file);
  readBaseline(file, pub);
  const flipped = join(ctx.dir, 'flipped.json');
  flipAll(
    'integrity baseline',
    good,
    (b) => {
      writeFileSync(flipped, b);
      // Accepted even with the very same signed bytes (a malleable encoding) counts: the file changed.
      return readBaseline(flipped, pub).digest.length > 0;
    },
    (e) => (e as { name?: string }).name === 'BaselineError' || e instanceof SyntaxError,
    r,
    sample,
  );
}

interface Vectors {
  testGroups: {
    publicKey: { pk: string };
    tests: { tcId: number; msg: string; sig: string; result: string }[];
  }[];
}

function wycheproof(r: RowResult): number {
  const v = JSON.parse(
    readFileSync(join(repoRoot, 'test', 'fixtures', 'vectors', 'wycheproof-ed25519_test.json'), 'utf8'),
  ) as Vectors;
  let agree = 0;
  for (const g of v.testGroups) {
    const pk = Buffer.from(g.publicKey.pk, 'hex');
    for (const t of g.tests) {
      r.cases++;
      const ok = verifyEd25519(pk, Buffer.from(t.msg, 'hex'), Buffer.from(t.sig, 'hex'));
      if (ok === (t.result === 'valid')) agree++;
      else addDefect(r, `Wycheproof tcId ${t.tcId}: verify said ${ok}, expected ${t.result}`);
    }
  }
  return agree;
}

export const s2: Row = {
  id: 'S2',
  what: 'bit flips of envelopes, acks and signed documents accepted; Wycheproof Ed25519',
  async run(ctx) {
    const r = emptyResult('cases');
    envelopes(r);
    documents(ctx, r);
    const flips = r.cases;
    const agree = wycheproof(r);
    r.notes = `${flips.toLocaleString('en-US')} single-bit flips${ctx.quick ? ' (documents: every 4th byte)' : ''}, ${r.defects.length === 0 ? 'none' : 'some'} accepted; Wycheproof ${agree}/${r.cases - flips}`;
    return r;
  },
};
