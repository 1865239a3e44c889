import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { crc32 } from 'node:zlib';
import { ManualClock, type Sealer, Stream } from '../../../agent/src/core/index.js';
import { type KeyRing, verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

const FILES = ['outbox.db', 'outbox.db-wal', 'outbox.db.hwm'];

it('a WAL that lost its tail to bit rot: the loss is reported by exact range and its seqs never reused (issue #14 item 5a)', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const { sealer, ring } = testSealer('gw-test', clock);
  try {
    const crashed = await damagedOutbox(t.dir, clock, sealer);
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
      const [next] = await ob.append([{ stream: Stream.TELEMETRY, items: [reading(7_000)] }]);
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
    await ob.append([{ stream: Stream.TELEMETRY, items: [reading(1)] }]);
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

/** 30 batches checkpointed, 70 more in the WAL, the files copied as a SIGKILL leaves them, one WAL byte flipped. */
async function damagedOutbox(root: string, clock: ManualClock, sealer: Sealer): Promise<string> {
  const live = join(root, 'live');
  const crashed = join(root, 'crashed');
  mkdirSync(live);
  mkdirSync(crashed);
  let n = 0;
  const fill = async (ob: ReturnType<typeof makeOutbox>, batches: number) => {
    for (let i = 0; i < batches; i++)
      await ob.append([{ stream: Stream.TELEMETRY, items: Array.from({ length: 70 }, () => reading(n++)) }]);
  };
  const first = makeOutbox(live, { clock, sealer });
  await first.start();
  await fill(first, 30);
  await first.stop();
  const second = makeOutbox(live, { clock, sealer });
  await second.start();
  await fill(second, 70);
  for (const f of FILES) copyFileSync(join(live, f), join(crashed, f));
  await second.stop();
  const wal = join(crashed, 'outbox.db-wal');
  const b = readFileSync(wal);
  b[Math.floor(b.length * 0.4)] ^= 0x40;
  writeFileSync(wal, b);
  return crashed;
}

it('a start that dies before the loss notice commits (a crash, a full disk) reports the loss at the next start', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const { sealer, ring } = testSealer('gw-test', clock);
  try {
    const crashed = await damagedOutbox(t.dir, clock, sealer);
    let dies = true;
    const dying: Sealer = (...a) => {
      if (!dies) return sealer(...a);
      dies = false;
      throw new Error('killed before the notice was committed');
    };
    await assert.rejects(makeOutbox(crashed, { clock, sealer: dying }).start());
    const ob = makeOutbox(crashed, { clock, sealer });
    await ob.start();
    try {
      assertLossReported(ob, ring, 'the loss is still reported');
    } finally {
      await ob.stop();
    }
  } finally {
    t.cleanup();
  }
});

it('a high-water mark replaced by a symlink: the file it points at is never written', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const { sealer } = testSealer('gw-test', clock);
  try {
    const victim = join(t.dir, 'victim');
    writeFileSync(victim, 'precious\n');
    const ob = makeOutbox(t.dir, { clock, sealer });
    await ob.start();
    await ob.append([{ stream: Stream.TELEMETRY, items: [reading(1)] }]);
    await ob.stop();
    const mark = join(t.dir, 'outbox.db.hwm');
    rmSync(mark);
    symlinkSync(victim, mark);
    const again = makeOutbox(t.dir, { clock, sealer });
    await again.start();
    const [b] = await again.append([{ stream: Stream.TELEMETRY, items: [reading(2)] }]);
    await again.stop();
    assert.equal(b.seq, 2, 'the commit goes through all the same');
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  } finally {
    t.cleanup();
  }
});

it('after a reported loss the chain resumes from the last batch sealed, so a collector that stored the lost batches sees no prev_hash mismatch (#14 review)', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const { sealer, ring } = testSealer('gw-test', clock);
  try {
    const crashed = await damagedOutbox(t.dir, clock, sealer);
    const live = makeOutbox(join(t.dir, 'live'), { clock, sealer });
    await live.start();
    const [sealed100] = live.read(Stream.TELEMETRY, 99, 1);
    await live.stop();
    assert.equal(sealed100.seq, 100);
    const ob = makeOutbox(crashed, { clock, sealer });
    await ob.start();
    try {
      const [next] = await ob.append([{ stream: Stream.TELEMETRY, items: [reading(7_000)] }]);
      assert.equal(next.seq, 101);
      assert.deepEqual(
        Buffer.from(verifyEnvelope(next.envelope, ring).batch.prevHash),
        Buffer.from(verifyEnvelope(sealed100.envelope, ring).payloadHash),
        'prev_hash of 101 is the hash of the lost 100',
      );
    } finally {
      await ob.stop();
    }
  } finally {
    t.cleanup();
  }
});

it('a version 1 high-water mark (seqs only) is still read: the loss is reported', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const { sealer, ring } = testSealer('gw-test', clock);
  try {
    const crashed = await damagedOutbox(t.dir, clock, sealer);
    const mark = join(crashed, 'outbox.db.hwm');
    const v2 = readFileSync(mark);
    const v1 = Buffer.alloc(8 + 8 + 8 * 3 + 4);
    v2.copy(v1, 0, 0, 40);
    v1.writeUInt32LE(1, 4);
    v1.writeUInt32LE(crc32(v1.subarray(0, 40)), 40);
    writeFileSync(mark, v1);
    const ob = makeOutbox(crashed, { clock, sealer });
    await ob.start();
    try {
      assertLossReported(ob, ring, 'a v1 mark still tells the loss');
    } finally {
      await ob.stop();
    }
  } finally {
    t.cleanup();
  }
});

/** One `buffer.evicted` notice (reason `lost`) up to seq 100, and the head raised to it. */
function assertLossReported(ob: ReturnType<typeof makeOutbox>, ring: KeyRing, why: string): void {
  const lost = ob
    .peek(1_000_000)
    .filter((r) => r.stream === Stream.EVENTS)
    .flatMap((r) => verifyEnvelope(r.envelope, ring).batch.events)
    .filter((e) => e.type === 'buffer.evicted' && e.details.reason === 'lost');
  assert.equal(lost.length, 1, why);
  assert.equal(lost[0].details.to_seq, '100');
  assert.equal(ob.head(Stream.TELEMETRY).seq, 100);
}
