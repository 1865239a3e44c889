import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { asidePath, moveAside, writeJournal } from '../../../agent/src/buffer/quarantine.js';
import { ManualClock, Stream } from '../../../agent/src/core/index.js';
import { verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { collectorDrain } from '../../helpers/drain.js';
import { FakeSession, type Outstanding, pubackAll } from '../../helpers/fake-session.js';
import { testSigner } from '../../helpers/keys.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

const WINDOW = 8;

/** An outbox holding 30 telemetry rows salvaged from a quarantined file of epoch `old`, 10 new ones, and a drain on it. */
async function salvagedOutbox(ackTimeoutMs: number) {
  const t = tempDir();
  const clock = new ManualClock();
  const { sealer, ring } = testSealer('gw-test', clock);
  const file = join(t.dir, 'outbox.db');
  const first = makeOutbox(t.dir, { clock, sealer });
  await first.start();
  for (let i = 0; i < 30; i++) await first.append([{ stream: Stream.TELEMETRY, items: [reading(i)] }]);
  const old = first.epoch;
  await first.stop();
  // A quarantine at run time cut short after its rename: the next open finishes it (salvage, notices).
  const aside = asidePath(file, clock.now());
  writeJournal(file, {
    aside,
    reason: 'quick_check: test',
    nowMs: clock.now(),
    wanted: [{ stream: Stream.TELEMETRY, epoch: old, fromSeq: 1, toSeq: 30 }],
    owed: [],
  });
  moveAside(file, aside);
  const ob = makeOutbox(t.dir, { clock, sealer });
  await ob.start();
  for (let i = 0; i < 10; i++) await ob.append([{ stream: Stream.TELEMETRY, items: [reading(100 + i)] }]);
  const {
    drain,
    acks,
    collector,
    ack: sendAck,
  } = collectorDrain(ob, clock, { ackTimeoutMs, inflight: WINDOW });
  const ack = (key: typeof collector, upToSeq: number, epoch = old) =>
    sendAck(Stream.TELEMETRY, upToSeq, epoch, key);
  const cleanup = async () => {
    await ob.stop();
    t.cleanup();
  };
  return { clock, ring, collector, old, ob, acks, drain, ack, cleanup };
}

it('rows salvaged from a quarantined file are delivered in their old epoch within the one window, and only a genuine ack of that epoch deletes them', async () => {
  const { ring, collector, old, ob, acks, drain, ack, cleanup } = await salvagedOutbox(60_000);
  const intruder = testSigner();
  try {
    assert.notEqual(ob.epoch, old);
    assert.deepEqual(ob.salvage.held().rows, 30);
    const sent: string[] = [];
    const session = new FakeSession((o) => {
      const b = verifyEnvelope(o.envelope, ring).batch;
      if (b.stream === Stream.TELEMETRY) sent.push(`${b.epoch === old ? 'old' : 'new'}:${b.seq}`);
    });
    await drain.start();
    drain.attach(session, 65_535);
    const most = await pubackAll(session);
    assert.ok(most <= WINDOW, `${most} publishes outstanding with a window of ${WINDOW}`);
    assert.deepEqual(sent, [
      ...Array.from({ length: 30 }, (_, i) => `old:${i + 1}`),
      ...Array.from({ length: 10 }, (_, i) => `new:${i + 1}`),
    ]);
    ack(intruder, 30);
    ack(collector, 31);
    await ob.idle();
    assert.equal(ob.salvage.held().rows, 30, 'a forged ack and one beyond the old head delete nothing');
    assert.equal(acks.rejected.UNKNOWN_KEY, 1);
    assert.equal(acks.rejected.BEYOND_HEAD, 1);
    ack(collector, 30);
    await ob.idle();
    assert.equal(ob.salvage.held().rows, 0, 'the old epoch acked: every salvaged row gone');
    assert.equal(
      ob.peek(100).filter((r) => r.stream === Stream.TELEMETRY).length,
      10,
      'the new epoch untouched',
    );
    ack(collector, 30);
    assert.equal(acks.rejected.WRONG_EPOCH, 1, 'nothing of that epoch held any more: refused again');
    await drain.stop();
  } finally {
    await cleanup();
  }
});

it('an ack of a salvaged old epoch that deletes rows resets the wait for acks, as one of the current epoch does (#12)', async () => {
  const { clock, collector, ob, drain, ack, cleanup } = await salvagedOutbox(2_000);
  try {
    const session = new FakeSession(() => undefined);
    await drain.start();
    drain.attach(session, 65_535);
    await pubackAll(session);
    for (let i = 0; i < 20 && drain.stats().ackWaitMs <= 4_000; i++) {
      clock.advance(1_000);
      await pubackAll(session);
    }
    assert.ok(drain.stats().ackWaitMs > 4_000, 'no ack: the wait grew');
    ack(collector, 12);
    await ob.idle();
    assert.equal(ob.salvage.held().rows, 18, 'the ack deleted rows');
    assert.equal(drain.stats().ackWaitMs, 2_000, 'the wait is back to ackTimeoutMs');
    await drain.stop();
  } finally {
    await cleanup();
  }
});

it('a salvaged row the collector did not store is probed while the current epoch of its stream keeps being acked', async () => {
  const { clock, ring, collector, old, ob, drain, ack, cleanup } = await salvagedOutbox(2_000);
  try {
    // The collector loses the first copy of old:5 and acks each epoch's contiguous prefix after every store.
    const stored = new Map<number, Set<number>>();
    let lost = false;
    const collect = (o: Outstanding) => {
      const b = verifyEnvelope(o.envelope, ring).batch;
      if (b.epoch === old && b.seq === 5 && !lost) {
        lost = true;
        return;
      }
      const held = stored.get(b.epoch) ?? new Set<number>();
      stored.set(b.epoch, held.add(b.seq));
      let up = 0;
      while (held.has(up + 1)) up++;
      if (up > 0) ack(collector, up, b.epoch);
    };
    const session = new FakeSession(() => undefined);
    await drain.start();
    drain.attach(session, 65_535);
    // New readings keep coming and being acked, two a second, for 5 ack timeouts.
    for (let i = 0; i < 20 && ob.salvage.held().rows > 0; i++) {
      await pubackAll(session, collect);
      await ob.append([{ stream: Stream.TELEMETRY, items: [reading(200 + i)] }]);
      drain.kick();
      await pubackAll(session, collect);
      await ob.idle();
      clock.advance(500);
    }
    assert.ok(lost, 'old:5 was lost');
    assert.equal(ob.salvage.held().rows, 0, 'every salvaged row acked');
    assert.ok(drain.stats().probes >= 1 && drain.stats().probes <= 2, `${drain.stats().probes} probes`);
    await drain.stop();
  } finally {
    await cleanup();
  }
});
