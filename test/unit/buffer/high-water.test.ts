import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { ManualClock, Stream } from '../../../agent/src/core/index.js';
import { verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

const FILES = ['outbox.db', 'outbox.db-wal', 'outbox.db.hwm'];

it('a WAL that lost its tail to bit rot: the loss is reported by exact range and its seqs never reused (issue #14 item 5a)', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const { sealer, ring } = testSealer('gw-test', clock);
  const live = join(t.dir, 'live');
  const crashed = join(t.dir, 'crashed');
  mkdirSync(live);
  mkdirSync(crashed);
  let n = 0;
  const fill = (ob: ReturnType<typeof makeOutbox>, batches: number) => {
    for (let i = 0; i < batches; i++)
      ob.append([{ stream: Stream.TELEMETRY, items: Array.from({ length: 70 }, () => reading(n++)) }]);
  };
  try {
    const first = makeOutbox(live, { clock, sealer });
    await first.start();
    fill(first, 30);
    await first.stop(); // checkpointed into the database file
    const second = makeOutbox(live, { clock, sealer });
    await second.start();
    fill(second, 70); // these stay in the WAL
    // A SIGKILL now: the files as they are on disk, then one byte flipped at 40% of the WAL.
    for (const f of FILES) copyFileSync(join(live, f), join(crashed, f));
    await second.stop();
    const wal = join(crashed, 'outbox.db-wal');
    const b = readFileSync(wal);
    b[Math.floor(b.length * 0.4)] ^= 0x40;
    writeFileSync(wal, b);
    assert.ok(statSync(join(crashed, 'outbox.db.hwm')).size > 0);

    const ob = makeOutbox(crashed, { clock, sealer });
    await ob.start();
    try {
      const rows = ob.peek(1_000_000);
      const telemetry = rows.filter((r) => r.stream === Stream.TELEMETRY);
      const kept = telemetry.at(-1)?.seq ?? 0;
      assert.ok(kept >= 30 && kept < 100, `the damaged WAL kept up to seq ${kept}`);
      const notices = rows
        .filter((r) => r.stream === Stream.EVENTS)
        .flatMap((r) => verifyEnvelope(r.envelope, ring).batch.events)
        .filter((e) => e.type === 'buffer.evicted');
      assert.equal(notices.length, 1, 'one notice for the loss');
      assert.deepEqual(
        [
          notices[0].details.stream,
          notices[0].details.reason,
          notices[0].details.from_seq,
          notices[0].details.to_seq,
        ],
        ['telemetry', 'lost', String(kept + 1), '100'],
      );
      assert.equal(
        notices[0].details.epoch,
        String(ob.epoch),
        'same epoch: the platform matches the range against its chain',
      );
      assert.equal(ob.head(Stream.TELEMETRY).seq, 100);
      const [next] = ob.append([{ stream: Stream.TELEMETRY, items: [reading(n++)] }]);
      assert.equal(next.seq, 101, 'a lost seq is never reused');
    } finally {
      await ob.stop();
    }
    // Reopened, the loss is not reported twice.
    const again = makeOutbox(crashed, { clock, sealer });
    await again.start();
    const events = again.peek(1_000_000).filter((r) => r.stream === Stream.EVENTS);
    assert.equal(events.length, 1);
    await again.stop();
  } finally {
    t.cleanup();
  }
});

it('a torn or rotten high-water mark is read as absent, never as a loss', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const { sealer } = testSealer('gw-test', clock);
  try {
    const ob = makeOutbox(t.dir, { clock, sealer });
    await ob.start();
    ob.append([{ stream: Stream.TELEMETRY, items: [reading(1)] }]);
    await ob.stop();
    const mark = join(t.dir, 'outbox.db.hwm');
    const b = readFileSync(mark);
    b[20] ^= 0xff; // a seq field: the CRC no longer matches
    writeFileSync(mark, b);
    const again = makeOutbox(t.dir, { clock, sealer });
    await again.start();
    assert.deepEqual(
      again.peek(10).map((r) => r.stream),
      [Stream.TELEMETRY],
      'no notice',
    );
    assert.equal(again.head(Stream.TELEMETRY).seq, 1);
    await again.stop();
  } finally {
    t.cleanup();
  }
});
