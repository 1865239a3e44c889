import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { Retention } from '../../../agent/src/buffer/index.js';
import { ManualClock, Stream, silentLogger } from '../../../agent/src/core/index.js';
import { ClockMonitor, EventReporter } from '../../../agent/src/monitor/index.js';
import { verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

it('retention evicts old unsent rows with a notice, and pauses while a clock jump is unresolved', async () => {
  const t = tempDir();
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 8));
  const { sealer, ring } = testSealer('gw-test', clock);
  const ob = makeOutbox(t.dir, { clock, sealer });
  await ob.start();
  const reporter = new EventReporter({
    submit: async () => undefined,
    aggregateMs: 0,
    clock,
    log: silentLogger(),
  });
  mkdirSync(join(t.dir, 'state'));
  const cm = new ClockMonitor({
    clock,
    reporter,
    stateDir: join(t.dir, 'state'),
    root: join(t.dir, 'none'),
    maxForwardJumpMs: 300_000,
    intervalMs: 10_000,
    settleMs: 3_600_000,
  });
  await cm.start();
  const retention = new Retention({
    outbox: ob,
    hours: { telemetry: 2, events: 0, reports: 0 },
    clockTrusted: () => cm.trusted(),
    clock,
    log: silentLogger(),
  });
  try {
    for (let i = 0; i < 3; i++) {
      ob.append([{ stream: Stream.TELEMETRY, items: [reading(i)] }]);
      clock.advance(3_600_000); // an hour between rows, the clock monitor ticking along
    }
    // Rows are now 3 h, 2 h and 1 h old.
    assert.equal(retention.run(), 1, 'only the row older than 2 h goes');
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

    // The wall clock jumps a day ahead: everything would look old, but retention waits.
    clock.setWall(clock.now() + 86_400_000);
    clock.advance(10_000);
    assert.equal(cm.trusted(), false);
    assert.equal(retention.run(), 0);
    assert.equal(retention.paused, true);
    assert.equal(
      ob.stats().find((s) => s.stream === 'telemetry')?.pending.rows,
      2,
      'a wrong clock never empties the buffer',
    );
  } finally {
    await cm.stop();
    await ob.stop();
    t.cleanup();
  }
});
