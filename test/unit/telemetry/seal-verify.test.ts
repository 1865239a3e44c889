import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import nacl from 'tweetnacl';
import { type ChainHead, ClockQuality, Stream, type StreamItem } from '../../../agent/src/core/index.js';
import {
  decodeEnvelope,
  encodeEnvelope,
  KeyRing,
  seal,
  VerifyError,
  verifyEnvelope,
  ZERO_HASH,
} from '../../../agent/src/telemetry/index.js';
import { testSigner } from '../../helpers/keys.js';

const signer = testSigner();
const ctx = {
  deviceId: 'gw-01',
  signingKey: signer.privateKey,
  keyId: signer.keyId,
  nowMs: 1_764_150_000_000,
  clock: ClockQuality.SYNCED,
};
const ring = new KeyRing();
ring.add('gw-01', signer.raw);

const reading = (i: number): StreamItem => ({
  stream: Stream.TELEMETRY,
  reading: {
    sensorId: 'aq-7',
    tsMs: 1_764_150_000_000 + i,
    unit: 'ug/m3',
    value: { kind: 'number', value: 12.5 + i },
    labels: { site: 'north' },
  },
});
const head = (seq = 0, epoch = 42): ChainHead => ({ epoch, seq, prevHash: ZERO_HASH });

describe('seal and verify', () => {
  it('round-trips every value kind, events and reports', () => {
    const items: StreamItem[] = [
      reading(1),
      {
        stream: Stream.TELEMETRY,
        reading: { sensorId: 's', tsMs: 1, unit: '', value: { kind: 'text', value: 'hi' }, labels: {} },
      },
      {
        stream: Stream.TELEMETRY,
        reading: { sensorId: 's', tsMs: 2, unit: '', value: { kind: 'flag', value: true }, labels: {} },
      },
      {
        stream: Stream.TELEMETRY,
        reading: {
          sensorId: 's',
          tsMs: 3,
          unit: '',
          value: { kind: 'blob', value: new Uint8Array([1, 2]) },
          labels: {},
        },
      },
    ];
    const sealed = seal(ctx, Stream.TELEMETRY, items, head());
    const v = verifyEnvelope(sealed.envelope, ring);
    assert.equal(v.batch.deviceId, 'gw-01');
    assert.equal(v.batch.seq, 1);
    assert.equal(v.batch.epoch, 42);
    assert.deepEqual(Buffer.from(v.batch.prevHash), Buffer.alloc(32));
    assert.equal(v.batch.readings.length, 4);
    assert.deepEqual(v.batch.readings[0].value, { kind: 'number', value: 13.5 });
    assert.deepEqual(v.batch.readings[0].labels, { site: 'north' });
    assert.deepEqual(v.batch.readings[1].value, { kind: 'text', value: 'hi' });
    assert.deepEqual(v.batch.readings[2].value, { kind: 'flag', value: true });
    assert.deepEqual(Buffer.from(v.batch.readings[3].value.value as Uint8Array), Buffer.from([1, 2]));
    assert.equal(v.batch.clock, ClockQuality.SYNCED);
    assert.deepEqual(Buffer.from(v.payloadHash), Buffer.from(sealed.payloadHash));

    const ev = seal(
      ctx,
      Stream.EVENTS,
      [
        {
          stream: Stream.EVENTS,
          event: {
            type: 'buffer.evicted',
            severity: 3,
            tsMs: 5,
            subject: 'outbox',
            details: { count: '3' },
            count: 2,
            firstTsMs: 1,
            lastTsMs: 5,
          },
        },
      ],
      head(),
    );
    const e = verifyEnvelope(ev.envelope, ring).batch.events[0];
    assert.deepEqual(e, {
      type: 'buffer.evicted',
      severity: 3,
      tsMs: 5,
      subject: 'outbox',
      details: { count: '3' },
      count: 2,
      firstTsMs: 1,
      lastTsMs: 5,
    });

    const rep = seal(
      ctx,
      Stream.REPORTS,
      [
        {
          stream: Stream.REPORTS,
          report: { kind: 'audit', contentType: 'application/json', body: Buffer.from('{"a":1}') },
        },
      ],
      head(),
    );
    const r = verifyEnvelope(rep.envelope, ring).batch.report;
    assert.equal(r?.kind, 'audit');
    assert.equal(Buffer.from(r?.body ?? []).toString(), '{"a":1}');
  });

  it('round-trips a seq and an epoch above 2^32 (protobufjs would encode a BigInt as 0)', () => {
    const seq = 2 ** 40 + 7;
    const epoch = 2 ** 53 - 1;
    const sealed = seal(ctx, Stream.TELEMETRY, [reading(0)], {
      epoch,
      seq: seq - 1,
      prevHash: new Uint8Array(32).fill(9),
    });
    const v = verifyEnvelope(sealed.envelope, ring);
    assert.equal(v.batch.seq, seq);
    assert.equal(v.batch.epoch, epoch);
    assert.deepEqual(Buffer.from(v.batch.prevHash), Buffer.alloc(32, 9));
  });

  it('rejects every single-bit flip of an envelope', () => {
    const env = seal(ctx, Stream.TELEMETRY, [reading(1), reading(2)], head(3)).envelope;
    let rejected = 0;
    for (let i = 0; i < env.length * 8; i++) {
      const copy = new Uint8Array(env);
      copy[i >> 3] ^= 1 << (i & 7);
      assert.throws(() => verifyEnvelope(copy, ring), VerifyError, `bit ${i} flipped was accepted`);
      rejected++;
    }
    assert.equal(rejected, env.length * 8);
  });

  it('gives each failure its own code', () => {
    const env = seal(ctx, Stream.TELEMETRY, [reading(1)], head()).envelope;
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as VerifyError).code;
      }
      return 'accepted';
    };
    assert.equal(
      code(() => verifyEnvelope(env, new KeyRing())),
      'UNKNOWN_KEY',
    );
    assert.equal(
      code(() => verifyEnvelope(new Uint8Array(300 * 1024), ring)),
      'TOO_LARGE',
    );
    assert.equal(
      code(() => verifyEnvelope(env, ring, 10)),
      'TOO_LARGE',
    );
    // 20 nested start-group tags (field 1, wire type 3).
    assert.equal(
      code(() => verifyEnvelope(new Uint8Array(20).fill(0x0b), ring)),
      'TOO_DEEP',
    );
    assert.equal(
      code(() => verifyEnvelope(new Uint8Array([0x0a, 0x05, 0x01]), ring)),
      'BAD_ENCODING',
    );
    const parts = decodeEnvelope(env);
    const forged = new Uint8Array(parts.signature);
    forged[0] ^= 1;
    assert.equal(
      code(() => verifyEnvelope(encodeEnvelope({ ...parts, signature: forged }), ring)),
      'BAD_SIGNATURE',
    );
    // A key registered to another device cannot vouch for this device's batches.
    const other = new KeyRing();
    other.add('gw-02', signer.raw);
    assert.equal(
      code(() => verifyEnvelope(env, other)),
      'UNKNOWN_KEY',
    );
  });

  it('signs byte-identically to tweetnacl', () => {
    const jwk = signer.privateKey.export({ format: 'jwk' });
    const seed = Buffer.from(jwk.d as string, 'base64url');
    const kp = nacl.sign.keyPair.fromSeed(seed);
    assert.deepEqual(Buffer.from(kp.publicKey), Buffer.from(signer.raw));
    for (let i = 0; i < 20; i++) {
      const sealed = seal(ctx, Stream.TELEMETRY, [reading(i)], head(i));
      const env = decodeEnvelope(sealed.envelope);
      const naclSig = nacl.sign.detached(env.payload, kp.secretKey);
      assert.deepEqual(Buffer.from(naclSig), Buffer.from(env.signature));
      assert.ok(nacl.sign.detached.verify(env.payload, env.signature, kp.publicKey));
    }
  });
});
