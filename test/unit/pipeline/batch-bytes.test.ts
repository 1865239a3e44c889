import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ClockQuality,
  ManualClock,
  Stream,
  type StreamItem,
  silentLogger,
} from '../../../agent/src/core/index.js';
import {
  Batcher,
  COLLECTOR_MAX_ENVELOPE_BYTES,
  ItemTooLargeError,
  itemBytes,
  itemSize,
  MAX_BATCH_ITEM_BYTES,
} from '../../../agent/src/pipeline/index.js';
import {
  DEFAULT_MAX_BYTES,
  KeyRing,
  seal,
  verifyEnvelope,
  ZERO_HASH,
} from '../../../agent/src/telemetry/index.js';
import { testSigner } from '../../helpers/keys.js';

const signer = testSigner();
const ring = new KeyRing();
ring.add('gw-a-device-id-of-the-longest-kind-allowed-by-the-pattern-0123456', signer.raw);
const sealAll = (items: StreamItem[], stream: Stream = Stream.TELEMETRY) =>
  seal(
    {
      deviceId: 'gw-a-device-id-of-the-longest-kind-allowed-by-the-pattern-0123456',
      signingKey: signer.privateKey,
      keyId: signer.keyId,
      nowMs: Number.MAX_SAFE_INTEGER,
      clock: ClockQuality.IMPLAUSIBLE,
    },
    stream,
    items,
    { epoch: 2 ** 53 - 1, seq: 2 ** 53 - 2, prevHash: ZERO_HASH },
  );

const text = (n: number, value: string, labels: Record<string, string> = {}): StreamItem => ({
  stream: Stream.TELEMETRY,
  reading: {
    sensorId: `cam-${n}`,
    tsMs: 1_764_150_000_000 + n,
    unit: 'plate',
    value: { kind: 'text', value },
    labels,
  },
});

function batcher() {
  const commits: { stream: Stream; items: StreamItem[] }[] = [];
  const b = new Batcher({
    policies: {
      [Stream.TELEMETRY]: { maxItems: 100, maxDelayMs: 1000 },
      [Stream.EVENTS]: { maxItems: 50, maxDelayMs: 100 },
      [Stream.REPORTS]: { maxItems: 1, maxDelayMs: 0 },
    },
    commit: async (r) => {
      commits.push(...r);
    },
    clock: new ManualClock(),
    log: silentLogger(),
  });
  return { b, commits };
}

describe('batches closed by bytes', () => {
  it("the cap is the collector's own decoder limit", () => {
    assert.equal(COLLECTOR_MAX_ENVELOPE_BYTES, DEFAULT_MAX_BYTES);
    assert.ok(MAX_BATCH_ITEM_BYTES < DEFAULT_MAX_BYTES);
  });

  it('100 readings with 4,000-character text values seal into envelopes the collector accepts', async () => {
    const { b, commits } = batcher();
    await b.start();
    const items = Array.from({ length: 100 }, (_, i) => text(i, String(i % 10).repeat(4000)));
    await b.submit(items);
    assert.ok(commits.length >= 2, `one batch would be ${100 * 4000} bytes: ${commits.length} batches`);
    assert.equal(
      commits.reduce((n, c) => n + c.items.length, 0),
      100,
    );
    for (const c of commits) {
      const env = sealAll(c.items).envelope;
      assert.ok(env.length <= DEFAULT_MAX_BYTES, `${env.length} bytes`);
      assert.equal(verifyEnvelope(env, ring).batch.readings.length, c.items.length);
    }
    await b.stop();
  });

  it('a batch filled to the byte bound by multi-byte text still seals below the cap', () => {
    // 3-byte characters, sized so that the estimate lands just under the bound.
    let v = '€'.repeat(Math.floor((MAX_BATCH_ITEM_BYTES - 64) / 3));
    while (itemSize(text(1, v)).bytes > MAX_BATCH_ITEM_BYTES) v = v.slice(1);
    const env = sealAll([text(1, v)]).envelope;
    assert.ok(env.length <= DEFAULT_MAX_BYTES, `${env.length} bytes`);
    // Many small labelled readings, the worst overhead per byte.
    const small = Array.from({ length: 4000 }, (_, i) => text(i, 'x', { a: 'b', c: 'd' }));
    let n = 0;
    let bytes = 0;
    while (n < small.length && bytes + itemSize(small[n]).bytes <= MAX_BATCH_ITEM_BYTES)
      bytes += itemSize(small[n++]).bytes;
    assert.ok(sealAll(small.slice(0, n)).envelope.length <= DEFAULT_MAX_BYTES);
  });

  it("the batcher's byte count of a reading is the bound itemSize gives (#12)", () => {
    const readings = [
      text(1, 'x'),
      text(2, '€'.repeat(40), { site: 'north-cabinet-12', métrique: 'pm2_5' }),
      {
        stream: Stream.TELEMETRY,
        reading: { ...(text(3, '') as { reading: object }).reading, value: { kind: 'number', value: 1.5 } },
      },
      {
        stream: Stream.TELEMETRY,
        reading: {
          ...(text(4, '') as { reading: object }).reading,
          value: { kind: 'blob', value: new Uint8Array(77) },
        },
      },
    ] as StreamItem[];
    for (const r of readings) assert.equal(itemBytes(r), itemSize(r).bytes);
  });

  it('a single reading that cannot fit is refused at once, naming the field, and nothing is queued', async () => {
    const { b, commits } = batcher();
    await b.start();
    const big = 'x'.repeat(MAX_BATCH_ITEM_BYTES);
    await assert.rejects(
      b.submit([text(1, 'fine'), text(2, big)]),
      (e: unknown) =>
        e instanceof ItemTooLargeError && e.code === 'ITEM_TOO_LARGE' && /^value: /.test(e.message),
    );
    await assert.rejects(b.submit([text(3, 'ok', { note: big })]), /ItemTooLargeError: labels\.note: /);
    await assert.rejects(
      b.submit([
        {
          stream: Stream.REPORTS,
          report: { kind: 'inventory', contentType: 'application/json', body: Buffer.alloc(300_000) },
        },
      ]),
      /ItemTooLargeError: body: the item encodes to about \d+ bytes/,
    );
    await b.stop();
    assert.equal(commits.length, 0, 'nothing was accepted, not even the good reading of the same call');
  });
});
