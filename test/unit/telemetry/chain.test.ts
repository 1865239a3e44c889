import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stream } from '../../../agent/src/core/index.js';
import { ChainTracker, sha256, ZERO_HASH } from '../../../agent/src/telemetry/index.js';

const payload = (seq: number, salt = '') => sha256(Buffer.from(`payload-${seq}${salt}`));
const prev = (seq: number) => (seq === 1 ? ZERO_HASH : payload(seq - 1));
const T = Stream.TELEMETRY;

describe('ChainTracker', () => {
  it('follows an in-order chain', () => {
    const t = new ChainTracker();
    for (let s = 1; s <= 5; s++)
      assert.deepEqual(t.observe('d', T, 7, s, prev(s), payload(s)), [{ kind: 'in_order' }]);
    assert.equal(t.contiguous('d', T, 7), 5);
  });

  it('reports duplicates, and a duplicate with another payload as a conflict', () => {
    const t = new ChainTracker();
    t.observe('d', T, 7, 1, prev(1), payload(1));
    assert.deepEqual(t.observe('d', T, 7, 1, prev(1), payload(1)), [{ kind: 'duplicate' }]);
    assert.deepEqual(t.observe('d', T, 7, 1, prev(1), payload(1, 'forged')), [{ kind: 'conflict' }]);
  });

  it('reports gaps, then reordering as they fill', () => {
    const t = new ChainTracker();
    t.observe('d', T, 7, 1, prev(1), payload(1));
    assert.deepEqual(t.observe('d', T, 7, 4, prev(4), payload(4)), [{ kind: 'gap', from: 2, to: 3 }]);
    assert.equal(t.contiguous('d', T, 7), 1);
    assert.deepEqual(t.observe('d', T, 7, 2, prev(2), payload(2)), [{ kind: 'reordered' }]);
    // Seq 3 checks its prev against 2 and its payload against 4's prev_hash.
    assert.deepEqual(t.observe('d', T, 7, 3, prev(3), payload(3)), [{ kind: 'reordered' }]);
    assert.equal(t.contiguous('d', T, 7), 4);
  });

  it('reports prev_hash mismatches both ways', () => {
    const t = new ChainTracker();
    t.observe('d', T, 7, 1, prev(1), payload(1));
    const f = t.observe('d', T, 7, 2, payload(99), payload(2));
    assert.deepEqual(f, [{ kind: 'prev_hash_mismatch', seq: 2 }]);
    t.observe('d', T, 7, 4, prev(4), payload(4));
    assert.deepEqual(t.observe('d', T, 7, 3, prev(3), payload(3, 'x')), [
      { kind: 'prev_hash_mismatch', seq: 4 },
      { kind: 'reordered' },
    ]);
    assert.deepEqual(
      t.observe(
        'd',
        T,
        7,
        1,
        ZERO_HASH.map(() => 1),
        payload(1),
      ),
      [{ kind: 'duplicate' }],
    );
  });

  it('keeps chains of different devices, streams and epochs apart', () => {
    const t = new ChainTracker();
    t.observe('a', T, 1, 1, prev(1), payload(1));
    assert.deepEqual(t.observe('b', T, 1, 1, prev(1), payload(1)), [{ kind: 'in_order' }]);
    assert.deepEqual(t.observe('a', Stream.EVENTS, 1, 1, prev(1), payload(1)), [{ kind: 'in_order' }]);
    assert.deepEqual(t.observe('a', T, 2, 1, prev(1), payload(1)), [{ kind: 'in_order' }]);
  });

  it('moves past a gap that an eviction notice explains', () => {
    const t = new ChainTracker();
    t.observe('d', T, 7, 1, prev(1), payload(1));
    t.skip('d', T, 7, 2, 9);
    assert.equal(t.contiguous('d', T, 7), 9);
  });
});
