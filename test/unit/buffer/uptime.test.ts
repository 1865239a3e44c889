import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { ManualClock, Stream } from '../../../agent/src/core/index.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

const MIN = 60_000;

/** The files as a crash leaves them: what the last commit synced, and no close. */
function crashCopy(from: string, to: string): string {
  mkdirSync(to);
  for (const f of ['outbox.db', 'outbox.db-wal', 'outbox.db.hwm'])
    if (existsSync(join(from, f))) copyFileSync(join(from, f), join(to, f));
  return to;
}

it('the uptime kept in the outbox survives a crash after append-only commits and after an ack that emptied it (#12)', async () => {
  const t = tempDir();
  const clock = new ManualClock(Date.UTC(2026, 11, 3, 12));
  const { sealer } = testSealer('gw-test', clock);
  const live = join(t.dir, 'live');
  mkdirSync(live);
  const ob = makeOutbox(live, { clock, sealer });
  await ob.start();
  try {
    clock.advance(10 * MIN);
    await ob.append([{ stream: Stream.TELEMETRY, items: [reading(1)] }]);
    clock.advance(5 * MIN);
    await ob.append([{ stream: Stream.TELEMETRY, items: [reading(2)] }]);
    const afterAppends = crashCopy(live, join(t.dir, 'crash-1'));
    clock.advance(5 * MIN);
    assert.equal(await ob.ack(Stream.TELEMETRY, ob.epoch, 2), 2);
    await ob.idle();
    const afterAck = crashCopy(live, join(t.dir, 'crash-2'));

    for (const [dir, up] of [
      [afterAppends, 15 * MIN],
      [afterAck, 20 * MIN],
    ] as const) {
      const again = makeOutbox(dir, { clock: new ManualClock(clock.now()), sealer });
      await again.start();
      try {
        assert.equal(again.uptime(), up, `uptime at the last commit before the crash (${dir})`);
      } finally {
        await again.stop();
      }
    }
  } finally {
    await ob.stop();
    t.cleanup();
  }
});
