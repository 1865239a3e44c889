import assert from 'node:assert/strict';
import { it } from 'node:test';
import { FrameGuard } from '../../../agent/src/sync/frame-guard.js';

/** MQTT's variable-length integer. */
const varint = (n: number): Buffer => {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
};

/** A QoS 1 retained PUBLISH as a broker frames it (MQTT 5 adds an empty property list). */
const publish = (bytes: number, protocolVersion: 4 | 5 = 5): Buffer => {
  const topic = Buffer.from('edge/v1/gw-test/config');
  const head = Buffer.concat([
    Buffer.from([topic.length >> 8, topic.length & 0xff]),
    topic,
    Buffer.from([0, 7]),
    protocolVersion === 5 ? Buffer.from([0]) : Buffer.alloc(0),
  ]);
  return Buffer.concat([Buffer.from([0x33]), varint(head.length + bytes), head, Buffer.alloc(bytes, 0x61)]);
};
const PINGRESP = Buffer.from([0xd0, 0x00]);

it('follows MQTT framing across any split and stops at the header of a packet over the cap', () => {
  const ok = [publish(10), publish(1000), publish(20_000, 4), PINGRESP];
  const stream = Buffer.concat(ok);
  for (const step of [1, 2, 3, 7, 1500, stream.length]) {
    const g = new FrameGuard(21_000);
    for (let i = 0; i < stream.length; i += step) assert.equal(g.feed(stream.subarray(i, i + step)), 0);
  }
  // A 50 MB publish: refused from its first five bytes, long before its body arrives.
  const big = publish(50 * 1024 * 1024);
  const g = new FrameGuard(21_000);
  assert.equal(g.feed(stream), 0);
  const size = g.feed(big.subarray(0, 5));
  assert.ok(size > 50 * 1024 * 1024, `reported ${size}`);
  // A remaining length of five bytes is not MQTT at all.
  assert.ok(new FrameGuard(1000).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])) > 0);
});
