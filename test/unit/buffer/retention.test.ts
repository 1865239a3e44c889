import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Retention } from '../../../agent/src/buffer/index.js';
import { ManualClock, Stream, silentLogger } from '../../../agent/src/core/index.js';
import { verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

const HOUR = 3_600_000;
const YEAR = 365 * 24 * HOUR;

it('retention evicts old unsent rows with a notice; ages are monotonic and survive a restart (issue #14 item 3)', async () => {
  const t = tempDir();
  let clock = new ManualClock(Date.UTC(2026, 10, 26, 8));
  const { sealer, ring } = testSealer('gw-test', clock);
  let ob = makeOutbox(t.dir, { clock, sealer });
  await ob.start();
  const retention = () =>
    new Retention({ outbox: ob, hours: { telemetry: 2, events: 0, reports: 0 }, clock, log: silentLogger() });
  try {
    for (let i = 0; i < 3; i++) {
      await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i)] }]);
      clock.advance(HOUR);
    }
    // Rows are now 3 h, 2 h and 1 h old.
    assert.equal(await retention().run(), 1, 'only the row older than 2 h goes');
    const rows = ob.peek(10);
    assert.deepEqual(
      rows.filter((r) => r.stream === Stream.TELEMETRY).map((r) => r.seq),
      [2, 3],
    );
    const notice = verifyEnvelope(rows.find((r) => r.stream === Stream.EVENTS)!.envelope, ring).batch
      .events[0];
    assert.equal(notice.type, 'buffer.evicted');
    assert.deepEqual(
      [notice.details.reason, notice.details.from_seq, notice.details.to_seq],
      ['retention', '1', '1'],
    );

    // The wall clock jumps ten years ahead (a reboot with a bad RTC, an NTP server that lies): nothing is old.
    clock.setWall(clock.now() + 10 * YEAR);
    assert.equal(await retention().run(), 0, 'a wall-clock jump deletes nothing');
    const telemetry = () => ob.stats().find((s) => s.stream === 'telemetry')?.pending.rows;
    assert.equal(telemetry(), 2);

    // A reboot: the monotonic clock starts again at 0 and the wall clock is ten years back. Ages carry on.
    await ob.stop();
    clock = new ManualClock(Date.UTC(2026, 10, 26, 12));
    ob = makeOutbox(t.dir, { clock, sealer });
    await ob.start();
    assert.equal(
      await retention().run(),
      0,
      'rows of 2 h and 1 h are not older than 2 h, after the reboot too',
    );
    clock.advance(30 * 60_000);
    assert.equal(await retention().run(), 1, 'half an hour of uptime later the 2.5 h old row goes');
    assert.equal(telemetry(), 1);
  } finally {
    await ob.stop();
    t.cleanup();
  }
});
