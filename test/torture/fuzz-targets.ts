// The S1 fuzz targets and the loop that runs one of them, shared by the S1 row and its workers
// (children/fuzz-worker.ts): one place says what is fuzzed and what counts as a finding.
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { parseConfig } from '../../agent/src/config/index.js';
import { Stream } from '../../agent/src/core/index.js';
import { parseIngestLine } from '../../agent/src/diag/index.js';
import { parseProfiles } from '../../agent/src/sensors/index.js';
import { verifyEnvelope } from '../../agent/src/telemetry/index.js';
import { checkDocument, checkProfilesDocument, TrustStore } from '../../agent/src/trust/index.js';
import { reading, testSealer } from '../helpers/outbox.js';
import { docKey, makeDoc, shippedProfiles } from '../helpers/trust.js';
import { rawControls } from './lib.js';

/** An execution slower than this is a hang (re-timed three times first, so a GC pause is not one). */
export const HANG_MS = 100;

export interface Target<T> {
  name: string;
  arb: fc.Arbitrary<T>;
  /** Runs the code under test; returns normally or throws an error the code means to throw. */
  exec: (input: T) => void;
  expected: (e: unknown) => boolean;
}

const named =
  (...names: string[]) =>
  (e: unknown) =>
    names.includes((e as { name?: string }).name ?? '');

/** Byte-level edits of a valid input: what coverage guidance would find first, without it. */
const mutated = (base: Uint8Array) =>
  fc
    .array(
      fc.tuple(
        fc.nat(base.length + 8),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom('set', 'insert', 'delete'),
      ),
      {
        maxLength: 6,
      },
    )
    .map((edits) => {
      const b = [...base];
      for (const [at, v, op] of edits) {
        const i = at % (b.length + 1);
        if (op === 'set') b[i] = v;
        else if (op === 'insert') b.splice(i, 0, v);
        else b.splice(i, 1);
      }
      return Uint8Array.from(b);
    });

export function targets(dir: string): Target<unknown>[] {
  const { sealer, ring } = testSealer('gw-test');
  const env = sealer(Stream.TELEMETRY, [reading(1, 20), reading(2)], {
    epoch: 5,
    seq: 9,
    prevHash: new Uint8Array(32),
  }).envelope;
  const root = docKey();
  const config = docKey();
  const profiles = docKey();
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
    deviceId: 'gw-test',
    groups: [],
    nowMs: Date.now(),
    clockTrusted: true,
    maxBytes: 65536,
  };
  const doc = makeDoc('config', 2, { log: { level: 'debug' } }, config);
  const shipped = shippedProfiles();
  const baseConfig = {
    device: { id: 'gw-fuzz' },
    storage: { dir: '/var/lib/edge-agent' },
    mqtt: { url: 'mqtts://broker:8883', ca: 'ca.crt', cert: 'gw.crt', key: 'gw.key' },
  };
  const leaf = fc.oneof(fc.jsonValue(), fc.string(), fc.integer(), fc.double(), fc.constant(null));
  const t: Target<never>[] = [
    {
      name: 'envelope decode + verify',
      arb: fc.oneof(fc.uint8Array({ maxLength: 512 }), mutated(env)) as never,
      exec: (b: Uint8Array) => void verifyEnvelope(b, ring),
      expected: named('VerifyError'),
    },
    {
      name: 'signed documents',
      arb: fc.oneof(
        mutated(doc),
        fc.string({ maxLength: 300 }).map((s) => Buffer.from(s)),
        fc.jsonValue().map((j) =>
          Buffer.from(
            JSON.stringify({
              signed: Buffer.from(JSON.stringify(j) ?? '').toString('base64'),
              signatures: [],
            }),
          ),
        ),
        fc.jsonValue().map((j) => makeDoc('config', 3, j, config)),
      ) as never,
      exec: (b: Uint8Array) => void checkDocument(b, ota),
      expected: named('DocumentError'),
    },
    {
      name: 'ingest lines',
      arb: fc.oneof(
        fc.string({ maxLength: 200 }),
        fc
          .record(
            {
              sensor: leaf,
              value: leaf,
              unit: leaf,
              ts: leaf,
              labels: fc.oneof(leaf, fc.dictionary(fc.string(), leaf)),
            },
            { requiredKeys: [] },
          )
          .map((o) => JSON.stringify(o)),
        fc.jsonValue().map((j) => JSON.stringify(j)),
      ) as never,
      exec: (line: string) => {
        const r = parseIngestLine(line, Date.now());
        if (!r.ok && (r.error.startsWith(': ') || rawControls(r.error).length > 0))
          throw new Error(`an error that names no field, or carries raw control characters: ${r.error}`);
      },
      expected: () => false,
    },
    {
      name: 'config files',
      arb: fc.oneof(
        fc.jsonValue(),
        fc
          .tuple(
            fc.constantFrom(
              'device',
              'storage',
              'mqtt',
              'sync',
              'batching',
              'privacy',
              'monitor',
              'sensors',
              'integrity',
              'audit',
              'trust',
              'log',
              'health',
              'ingest',
              'sockets',
              'identity',
              'extra',
            ),
            fc.oneof(leaf, fc.dictionary(fc.string({ maxLength: 12 }), leaf)),
          )
          .map(([k, v]) => ({ ...baseConfig, [k]: v })),
      ) as never,
      exec: (v: unknown) => {
        try {
          parseConfig(v, '/etc/edge-agent/config.json');
        } catch (e) {
          const issues = (e as { issues?: { path: string; message: string }[] }).issues;
          if ((e as { code?: string }).code === 'CONFIG_INVALID' && issues?.every((i) => i.message)) return;
          throw e;
        }
      },
      expected: () => false,
    },
    {
      name: 'firmware profile bundles',
      arb: fc.oneof(
        fc.jsonValue().map((j) => ({ profiles: [j] })),
        fc
          .tuple(
            fc.nat(shipped.length - 1),
            fc.constantFrom(
              'id',
              'vendor',
              'match',
              'vulnerabilities',
              'approvedFirmware',
              'endOfSupport',
              'supported',
            ),
            leaf,
          )
          .map(([i, k, v]) => ({
            profiles: [{ ...(shipped[i] as object), [k]: v }],
          })),
      ) as never,
      exec: (body: unknown) => {
        parseProfiles(body);
        checkProfilesDocument(makeDoc('profiles', 2, body, profiles), store, 1 << 20, ota);
      },
      expected: named('DocumentError'),
    },
  ];
  return t as unknown as Target<unknown>[];
}

/** What one target's run found: executions done, and the failing case if any. */
export interface FuzzOutcome {
  name: string;
  done: number;
  ms: number;
  defect?: string;
}

/** Runs `t` up to `runs` times or until `endMs` (wall clock), seeded. */
export function fuzz(t: Target<unknown>, runs: number, seed: number, endMs: number): FuzzOutcome {
  let done = 0;
  const t0 = Date.now();
  const once = (input: unknown): number => {
    const s = performance.now();
    try {
      t.exec(input);
    } catch (e) {
      if (!t.expected(e)) throw e;
    }
    return performance.now() - s;
  };
  const result = fc.check(
    fc.property(t.arb, (input) => {
      done++;
      if (once(input) > HANG_MS && Math.min(once(input), once(input), once(input)) > HANG_MS)
        throw new Error(`an execution took over ${HANG_MS} ms, three times`);
    }),
    {
      numRuns: runs,
      seed,
      interruptAfterTimeLimit: Math.max(1, endMs - Date.now()),
      markInterruptAsFailure: false,
    },
  );
  const out: FuzzOutcome = { name: t.name, done, ms: Date.now() - t0 };
  if (result.failed)
    out.defect = `${t.name}: ${String(result.errorInstance ?? 'failed')} on ${fc.stringify(result.counterexample?.[0])} (fast-check seed ${result.seed}, path ${result.counterexample ? result.counterexamplePath : ''})`;
  return out;
}
