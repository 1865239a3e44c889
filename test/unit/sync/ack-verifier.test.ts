import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type EventType, Stream, silentLogger } from '../../../agent/src/core/index.js';
import { AckVerifier } from '../../../agent/src/sync/index.js';
import { type AckMessage, encodeAck, keyIdOf, sealAck } from '../../../agent/src/telemetry/index.js';
import { docKey } from '../../helpers/trust.js';

it('an ack deletes only when signed by a current collector key, for this device, stream and epoch, within the head', () => {
  let keys = new Map<string, Uint8Array>();
  const raised: [EventType, string][] = [];
  const v = new AckVerifier({
    deviceId: 'gw-1',
    collectorKeys: () => keys,
    head: () => ({ epoch: 77, seq: 10 }),
    raise: (type, subject) => raised.push([type, subject]),
    log: silentLogger(),
  });
  const a = docKey();
  const b = docKey();
  const ack: AckMessage = { deviceId: 'gw-1', stream: Stream.TELEMETRY, epoch: 77, upToSeq: 10 };
  const signed = (k = a, m = ack, id = keyIdOf(k.publicKey)) => sealAck(m, k.privateKey, id);
  const reason = (bytes: Uint8Array) => {
    const r = v.check(bytes);
    return r.ok ? 'ok' : r.reason;
  };
  assert.equal(reason(signed()), 'NO_COLLECTOR_KEY', 'no keys document yet: every row kept');
  keys = new Map([[keyIdOf(a.publicKey), a.publicKey]]);
  assert.equal(reason(signed()), 'ok');
  assert.equal(reason(encodeAck(ack)), 'MALFORMED');
  assert.equal(reason(signed(b)), 'UNKNOWN_KEY');
  assert.equal(reason(signed(b, ack, keyIdOf(a.publicKey))), 'BAD_SIGNATURE');
  assert.equal(reason(signed(a, { ...ack, deviceId: 'gw-2' })), 'WRONG_DEVICE');
  assert.equal(reason(signed(a, { ...ack, stream: 7 as Stream })), 'UNKNOWN_STREAM');
  assert.equal(reason(signed(a, { ...ack, epoch: 76 })), 'WRONG_EPOCH');
  assert.equal(reason(signed(a, { ...ack, upToSeq: 11 })), 'BEYOND_HEAD');
  const tampered = Buffer.from(signed());
  tampered[tampered.length - 20] ^= 1;
  assert.notEqual(reason(tampered), 'ok');
  // A rotation: the old key's acks are refused from then on.
  keys = new Map([[keyIdOf(b.publicKey), b.publicKey]]);
  assert.equal(reason(signed(a)), 'UNKNOWN_KEY');
  assert.equal(reason(signed(b)), 'ok');
  // accept() counts and raises; check() alone did not.
  assert.equal(raised.length, 0);
  assert.equal(v.accept(signed(a)), null);
  assert.equal(v.accept(signed(a)), null);
  assert.deepEqual(v.accept(signed(b)), ack);
  assert.deepEqual(v.rejected, { UNKNOWN_KEY: 2 });
  assert.deepEqual(raised, [
    ['sync.ack_rejected', 'UNKNOWN_KEY'],
    ['sync.ack_rejected', 'UNKNOWN_KEY'],
  ]);
});

it('an ack of an old epoch deletes only while rows salvaged from it are held, and never beyond that epoch head', () => {
  const a = docKey();
  const held = new Map<string, number>([[`${Stream.TELEMETRY}/76`, 40]]);
  const v = new AckVerifier({
    deviceId: 'gw-1',
    collectorKeys: () => new Map([[keyIdOf(a.publicKey), a.publicKey]]),
    head: () => ({ epoch: 77, seq: 10 }),
    salvaged: (stream, epoch) => held.get(`${stream}/${epoch}`),
    raise: () => undefined,
    log: silentLogger(),
  });
  const reason = (m: AckMessage) => {
    const r = v.check(sealAck(m, a.privateKey, keyIdOf(a.publicKey)));
    return r.ok ? 'ok' : r.reason;
  };
  const old: AckMessage = { deviceId: 'gw-1', stream: Stream.TELEMETRY, epoch: 76, upToSeq: 40 };
  assert.equal(reason(old), 'ok', 'up to the old head: the salvaged rows it covers go');
  assert.equal(reason({ ...old, upToSeq: 41 }), 'BEYOND_HEAD');
  assert.equal(reason({ ...old, stream: Stream.EVENTS }), 'WRONG_EPOCH', 'nothing salvaged of that stream');
  assert.equal(reason({ ...old, epoch: 75 }), 'WRONG_EPOCH');
  assert.equal(
    reason({ ...old, epoch: 77, upToSeq: 11 }),
    'BEYOND_HEAD',
    'the current epoch keeps its own head',
  );
  held.clear();
  assert.equal(reason(old), 'WRONG_EPOCH', 'once every salvaged row is gone, the old epoch is refused again');
});
