import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, Stream, type StreamItem, silentLogger } from '../../../agent/src/core/index.js';
import { Batcher } from '../../../agent/src/pipeline/index.js';
import { event, reading } from '../../helpers/outbox.js';

const tick = () => new Promise((r) => setImmediate(r));

function setup(fail = false) {
  const clock = new ManualClock();
  const commits: { stream: Stream; items: StreamItem[] }[][] = [];
  const b = new Batcher({
    policies: {
      [Stream.TELEMETRY]: { maxItems: 3, maxDelayMs: 1000 },
      [Stream.EVENTS]: { maxItems: 10, maxDelayMs: 100 },
      [Stream.REPORTS]: { maxItems: 1, maxDelayMs: 0 },
    },
    commit: async (r) => {
      if (fail) throw new Error('disk full');
      commits.push(r);
    },
    clock,
    log: silentLogger(),
  });
  return { b, clock, commits };
}

describe('Batcher', () => {
  it('cuts a batch at N items and resolves only after the commit', async () => {
    const { b, commits } = setup();
    await b.start();
    let done = false;
    const p = b.submit([reading(1), reading(2), reading(3), reading(4)]).then(() => (done = true));
    await tick();
    assert.equal(commits.length, 1);
    assert.deepEqual(
      commits[0].map((r) => r.items.length),
      [3, 1],
    );
    await p;
    assert.ok(done);
  });

  it('seals a partial batch after T ms of the monotonic clock', async () => {
    const { b, clock, commits } = setup();
    await b.start();
    let done = false;
    void b.submit([reading(1)]).then(() => (done = true));
    void b.submit([event(1)]);
    clock.advance(99);
    await tick();
    assert.equal(commits.length, 0);
    clock.advance(1);
    await tick();
    assert.deepEqual(
      commits.map((c) => c.map((r) => r.stream)),
      [[Stream.EVENTS]],
    );
    assert.equal(done, false);
    clock.advance(900);
    await tick();
    await tick();
    assert.equal(commits.length, 2);
    assert.ok(done);
  });

  it('rejects the items of a failed commit, and flushes the rest on stop', async () => {
    const f = setup(true);
    await f.b.start();
    await assert.rejects(f.b.submit([reading(1), reading(2), reading(3)]), /disk full/);
    const { b, commits } = setup();
    await b.start();
    const p = b.submit([reading(1)]);
    await b.stop();
    await p;
    assert.equal(commits.length, 1);
    await assert.rejects(b.submit([reading(2)]), /stopping/);
  });
});
