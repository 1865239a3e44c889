import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ManualClock, Stream } from '../../../agent/src/core/index.js';
import { collectorDrain } from '../../helpers/drain.js';
import { FakeSession, type Outstanding, pubackAll } from '../../helpers/fake-session.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

const ROWS = 200;
const ACK_TIMEOUT = 2_000;
const WINDOW = 16;
/** The test's clock moves in quarter ack timeouts: the drain's tick at this ack timeout. */
const STEP = ACK_TIMEOUT / 4;

/**
 * 200 telemetry rows through a drain to a collector that stores what the broker
 * hands it, except the first copy of each seq in `lost` (a batch lost between
 * broker and collector), and acks its contiguous prefix after each store, as
 * the platform does. Every publish is PUBACKed at once. Returns when the last
 * row was acked (ms after the first loss), how many rows were published again,
 * the longest ack wait seen and the drain's figures.
 */
async function drainWithLosses(lost: readonly number[]) {
  const t = tempDir();
  const clock = new ManualClock();
  const ob = makeOutbox(t.dir, { clock, sealer: testSealer('gw-test', clock).sealer });
  await ob.start();
  const { drain, ack } = collectorDrain(ob, clock, { ackTimeoutMs: ACK_TIMEOUT, inflight: WINDOW });
  try {
    await ob.append(
      Array.from({ length: ROWS }, (_, i) => ({ stream: Stream.TELEMETRY, items: [reading(i)] })),
    );
    const stored = new Set<number>();
    const dropped = new Set<number>();
    let lostAt: number | undefined;
    let contiguous = 0;
    const collector = (o: Outstanding) => {
      if (lost.includes(o.seq) && !dropped.has(o.seq)) {
        dropped.add(o.seq);
        lostAt ??= clock.monotonic();
        return;
      }
      stored.add(o.seq);
      while (stored.has(contiguous + 1)) contiguous++;
      if (contiguous > 0) ack(Stream.TELEMETRY, contiguous);
    };
    const session = new FakeSession(() => {});
    await drain.start();
    drain.attach(session, 65_535);
    let longestWait = 0;
    let doneAt: number | undefined;
    for (let i = 0; i < 80 && doneAt === undefined; i++) {
      await pubackAll(session, collector);
      await ob.idle();
      if (ob.floor(Stream.TELEMETRY) === ROWS) doneAt = clock.monotonic();
      longestWait = Math.max(longestWait, drain.stats().ackWaitMs);
      clock.advance(STEP);
      longestWait = Math.max(longestWait, drain.stats().ackWaitMs);
    }
    await drain.stop();
    assert.deepEqual([...dropped].sort(), [...lost].sort(), 'the collector lost what it was meant to');
    return {
      ackedAfterMs: doneAt === undefined ? undefined : doneAt - (lostAt ?? 0),
      republished: session.publishes - ROWS,
      longestWait,
      stats: drain.stats(),
    };
  } finally {
    await ob.stop();
    t.cleanup();
  }
}

it('one batch the collector did not store (seq 3 of 200) is sent again alone, without the window and without a longer ack wait (head-of-line probe)', async () => {
  const r = await drainWithLosses([3]);
  assert.ok(r.ackedAfterMs !== undefined, 'every row acked');
  // Before the probe: every delivered row (197) was sent again at the ack timeout and the wait doubled.
  assert.ok(r.ackedAfterMs <= 2 * ACK_TIMEOUT, `acked ${r.ackedAfterMs} ms after the loss`);
  assert.ok(r.republished >= 1 && r.republished <= 2, `${r.republished} rows published again`);
  assert.equal(r.longestWait, ACK_TIMEOUT, 'the ack wait never grew: the collector was acking');
  assert.ok(r.stats.probes >= 1, 'counted as a probe');
});

it('a run of lost batches and another further on are found by probes that grow while each is answered, not by resending the window', async () => {
  const lost = [3, 4, 5, 6, 7, 50];
  const r = await drainWithLosses(lost);
  assert.ok(r.ackedAfterMs !== undefined, 'every row acked');
  assert.ok(r.ackedAfterMs <= 3 * ACK_TIMEOUT, `acked ${r.ackedAfterMs} ms after the first loss`);
  assert.ok(
    r.republished >= lost.length && r.republished <= 4 * lost.length,
    `${r.republished} rows published again for ${lost.length} lost (window ${WINDOW}, ${ROWS} rows)`,
  );
  assert.equal(r.longestWait, ACK_TIMEOUT);
});
