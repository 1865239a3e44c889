import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type Outbox, type OutboxOptions, readOfflineStats } from '../../../agent/src/buffer/index.js';
import { ManualClock, Stream } from '../../../agent/src/core/index.js';
import { type KeyRing, verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { event, makeOutbox, reading, report, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

/**
 * The outbox's contract, written once so any store implementation (today the
 * SQLite one) must pass the same behaviour.
 */
function contract(name: string, factory: (dir: string, over?: Partial<OutboxOptions>) => Outbox) {
  describe(`outbox contract: ${name}`, () => {
    let t: ReturnType<typeof tempDir>;
    let ob: Outbox;
    let ring: KeyRing;
    let clock: ManualClock;
    const open = async (over: Partial<OutboxOptions> = {}) => {
      const o = factory(t.dir, { clock, sealer: sealerPair.sealer, ...over });
      await o.start();
      return o;
    };
    let sealerPair: ReturnType<typeof testSealer>;
    beforeEach(async () => {
      t = tempDir();
      clock = new ManualClock();
      sealerPair = testSealer('gw-test', clock);
      ring = sealerPair.ring;
      ob = await open();
    });
    afterEach(async () => {
      await ob.stop();
      t.cleanup();
    });

    it('hands out events, then reports, then telemetry, each in seq order and chained', async () => {
      await ob.append([{ stream: Stream.TELEMETRY, items: [reading(1), reading(2)] }]);
      await ob.append([
        { stream: Stream.REPORTS, items: [report(1)] },
        { stream: Stream.EVENTS, items: [event(1)] },
        { stream: Stream.TELEMETRY, items: [reading(3)] },
      ]);
      await ob.append([{ stream: Stream.EVENTS, items: [event(2)] }]);
      const rows = ob.peek(100);
      assert.deepEqual(
        rows.map((r) => [r.stream, r.seq]),
        [
          [Stream.EVENTS, 1],
          [Stream.EVENTS, 2],
          [Stream.REPORTS, 1],
          [Stream.TELEMETRY, 1],
          [Stream.TELEMETRY, 2],
        ],
      );
      const t1 = verifyEnvelope(rows[3].envelope, ring);
      const t2 = verifyEnvelope(rows[4].envelope, ring);
      assert.deepEqual(Buffer.from(t2.batch.prevHash), Buffer.from(t1.payloadHash));
      assert.equal(t1.batch.epoch, ob.epoch);
      assert.equal(rows[3].items, 2);
      assert.deepEqual(
        ob.peek(100).map((r) => r.seq),
        rows.map((r) => r.seq),
        'reading is stateless: delivery state belongs to sync',
      );
    });

    it('deletes only what an ack of the current epoch covers', async () => {
      for (let i = 1; i <= 5; i++) await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i)] }]);
      assert.equal(await ob.ack(Stream.TELEMETRY, ob.epoch + 1, 5), 0, 'another epoch acks nothing');
      assert.equal(await ob.ack(Stream.TELEMETRY, ob.epoch, 3), 3);
      assert.equal(await ob.ack(Stream.EVENTS, ob.epoch, 3), 0);
      assert.deepEqual(
        ob.peek(10).map((r) => r.seq),
        [4, 5],
      );
      assert.equal(ob.stats().find((s) => s.stream === 'telemetry')?.pending.rows, 2);
    });

    it('reads a stream after a seq, and keeps its floor where acks and evictions cut it', async () => {
      for (let i = 1; i <= 4; i++) await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i)] }]);
      assert.deepEqual(
        ob.read(Stream.TELEMETRY, 1, 2).map((r) => r.seq),
        [2, 3],
      );
      assert.equal(ob.floor(Stream.TELEMETRY), 0);
      await ob.ack(Stream.TELEMETRY, ob.epoch, 2);
      assert.equal(ob.floor(Stream.TELEMETRY), 2);
      await ob.ack(Stream.TELEMETRY, ob.epoch, 99);
      assert.equal(ob.floor(Stream.TELEMETRY), 4, 'an ack past the head cuts no further than the head');
      assert.deepEqual(ob.read(Stream.TELEMETRY, 0, 10), []);
    });

    it('keeps its epoch, chain, rows and floor across a restart', async () => {
      await ob.append([{ stream: Stream.TELEMETRY, items: [reading(1)] }]);
      await ob.append([{ stream: Stream.TELEMETRY, items: [reading(2)] }]);
      await ob.ack(Stream.TELEMETRY, ob.epoch, 1);
      const epoch = ob.epoch;
      const head = ob.head(Stream.TELEMETRY);
      await ob.stop();
      ob = await open();
      assert.equal(ob.epoch, epoch);
      assert.deepEqual(ob.head(Stream.TELEMETRY), head);
      const [b3] = await ob.append([{ stream: Stream.TELEMETRY, items: [reading(3)] }]);
      assert.equal(b3.seq, 3);
      assert.deepEqual(
        Buffer.from(verifyEnvelope(b3.envelope, ring).batch.prevHash),
        Buffer.from(head.prevHash),
      );
      assert.deepEqual(
        ob.peek(10).map((r) => r.seq),
        [2, 3],
      );
      assert.equal(ob.floor(Stream.TELEMETRY), 1, 'the floor survives the restart');
    });

    it('reports rows, bytes, items and age per stream, split by what sync says awaits an ack', async () => {
      await ob.append([{ stream: Stream.TELEMETRY, items: [reading(1), reading(2), reading(3)] }]);
      clock.advance(1000);
      await ob.append([
        { stream: Stream.TELEMETRY, items: [reading(4)] },
        { stream: Stream.EVENTS, items: [event(1)] },
      ]);
      const [first] = ob.peek(1);
      const awaiting = (s: Stream) =>
        s === first.stream
          ? { rows: 1, bytes: first.envelope.length, items: first.items, oldestMs: first.createdMs }
          : { rows: 0, bytes: 0, items: 0, oldestMs: null };
      const st = Object.fromEntries(ob.stats(awaiting).map((s) => [s.stream, s]));
      assert.equal(st.events.sent.rows, 1);
      assert.equal(st.events.pending.rows, 0);
      assert.equal(st.telemetry.pending.rows, 2);
      assert.equal(st.telemetry.pending.items, 4);
      assert.ok(st.telemetry.pending.bytes > 100);
      assert.equal(st.telemetry.pending.oldestMs, clock.now() - 1000);
      assert.equal(st.telemetry.lastSeq, 2);
      assert.equal(st.reports.pending.rows, 0);
    });

    it('evicts the oldest telemetry first past the budget and reports the loss', async () => {
      await ob.stop();
      ob = await open({ maxBytes: 1024 * 1024 });
      await ob.append([{ stream: Stream.EVENTS, items: [event(1)] }]);
      for (let i = 0; i < 400; i++)
        await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i, 8000)] }]);
      await ob.idle(); // the notice of the last eviction commits right behind it
      assert.ok(ob.usedBytes() <= 1.25 * 1024 * 1024, `used ${ob.usedBytes()} bytes`);
      const rows = ob.peek(10_000);
      const events = rows
        .filter((r) => r.stream === Stream.EVENTS)
        .map((r) => verifyEnvelope(r.envelope, ring).batch.events[0]);
      assert.equal(events[0].type, 'test.event', 'security events survive');
      const notices = events.filter((e) => e.type === 'buffer.evicted');
      assert.ok(notices.length > 0);
      const telemetry = rows.filter((r) => r.stream === Stream.TELEMETRY);
      const evicted = notices.reduce((n, e) => n + Number(e.details.count), 0);
      assert.equal(evicted + telemetry.length, 400, 'every batch is either kept or covered by a notice');
      assert.equal(notices[0].details.from_seq, '1');
      assert.equal(
        Number(notices.at(-1)?.details.to_seq) + 1,
        telemetry[0].seq,
        'kept rows start right after the evicted ones',
      );
      assert.equal(notices[0].details.reason, 'budget');
      assert.equal(notices[0].details.epoch, String(ob.epoch));
      await ob.ack(Stream.TELEMETRY, ob.epoch, telemetry[3].seq);
      await ob.ackOne(Stream.TELEMETRY, ob.epoch, telemetry[6].seq);
      assert.deepEqual(
        ob.stats().map((s) => s.pending),
        readOfflineStats(join(t.dir, 'outbox.db'))?.streams.map((s) => s.pending),
        'the counters status reads agree with a scan of the table',
      );
    });

    it('evicts when free space on the filesystem drops below the threshold', async () => {
      await ob.stop();
      let free = 100 * 1024 * 1024;
      ob = await open({ minFreeBytes: 10 * 1024 * 1024, freeBytes: () => free });
      for (let i = 0; i < 5; i++) await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i, 1000)] }]);
      free = 9 * 1024 * 1024;
      await ob.append([{ stream: Stream.TELEMETRY, items: [reading(5)] }]);
      await ob.idle();
      const notice = ob
        .peek(100)
        .filter((r) => r.stream === Stream.EVENTS)
        .map((r) => verifyEnvelope(r.envelope, ring).batch.events[0]);
      assert.equal(notice[0].type, 'buffer.evicted');
      assert.equal(notice[0].details.reason, 'disk_space');
    });

    it('quarantines a corrupt file and starts a new epoch with an alert', async () => {
      await ob.append([{ stream: Stream.TELEMETRY, items: [reading(1)] }]);
      const oldEpoch = ob.epoch;
      await ob.stop();
      const file = join(t.dir, 'outbox.db');
      copyFileSync(file, `${file}.orig`);
      writeFileSync(file, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(8192, 0xab)]));
      ob = await open();
      assert.notEqual(ob.epoch, oldEpoch);
      const aside = readdirSync(t.dir).filter(
        (f) => f.startsWith('outbox.db.quarantined-') && !f.endsWith('-wal') && !f.endsWith('-shm'),
      );
      assert.equal(aside.length, 1, 'the bad file is kept');
      const rows = ob.peek(10);
      assert.equal(rows.length, 1);
      const ev = verifyEnvelope(rows[0].envelope, ring).batch;
      assert.equal(ev.events[0].type, 'buffer.quarantined');
      assert.equal(ev.epoch, ob.epoch);
      assert.equal(ob.integrityCheck(), 'ok');
      assert.ok(existsSync(file));
    });
  });
}

contract('SQLite outbox', (dir, over) => makeOutbox(dir, over));
