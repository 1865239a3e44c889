// A collector that lost nothing but stalled past the ack timeout and then catches up a few rows an
// ack (its store slow behind a backlog): the head-of-line probe sent during the stall is answered by
// an ack that goes past it. That is no sign of a loss: the probe must not grow (hostile review: each
// such ack sent twice the rows again, 255 of 400 rows at 20 rows an ack, all duplicates).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ManualClock, Stream } from '../../../agent/src/core/index.js';
import { collectorDrain } from '../../helpers/drain.js';
import { FakeSession, type Outstanding, pubackAll } from '../../helpers/fake-session.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

const ROWS = 400;
const ACK_TIMEOUT = 2_000;
const STEP = ACK_TIMEOUT / 4;
/** Steps the collector acks nothing: 1.5 ack timeouts. */
const STALL = 6;

for (const perAck of [5, 20, 60]) {
  it(`a collector that stalled, then acks ${perAck} rows a step, gets no probe storm: at most a window sent again`, async () => {
    const t = tempDir();
    const clock = new ManualClock();
    const ob = makeOutbox(t.dir, { clock, sealer: testSealer('gw-test', clock).sealer });
    await ob.start();
    const { drain, ack } = collectorDrain(ob, clock, { ackTimeoutMs: ACK_TIMEOUT, inflight: 16 });
    try {
      await ob.append(
        Array.from({ length: ROWS }, (_, i) => ({ stream: Stream.TELEMETRY, items: [reading(i)] })),
      );
      const stored = new Set<number>();
      let duplicates = 0;
      const collector = (o: Outstanding) => {
        if (stored.has(o.seq)) duplicates++;
        stored.add(o.seq);
      };
      const session = new FakeSession(() => {});
      await drain.start();
      drain.attach(session, 65_535);
      let acked = 0;
      for (let i = 0; i < 400 && ob.floor(Stream.TELEMETRY) < ROWS; i++) {
        await pubackAll(session, collector);
        await ob.idle();
        if (i >= STALL) {
          let c = acked;
          while (stored.has(c + 1) && c < acked + perAck) c++;
          if (c > acked) {
            acked = c;
            ack(Stream.TELEMETRY, c);
          }
        }
        clock.advance(STEP);
      }
      await drain.stop();
      assert.equal(ob.floor(Stream.TELEMETRY), ROWS, 'every row acked');
      assert.ok(duplicates <= 16, `${duplicates} rows the collector had were sent again`);
    } finally {
      await ob.stop();
      t.cleanup();
    }
  });
}
