import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import Database from 'better-sqlite3';
import { ManualClock, Stream } from '../../../agent/src/core/index.js';
import { verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

it('a bit flipped inside a stored envelope: the row is set aside and reported by exact range, the rest kept (issue #18 R7)', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const { sealer, ring } = testSealer('gw-test', clock);
  try {
    const ob = makeOutbox(t.dir, { clock, sealer });
    await ob.start();
    const batches = [];
    for (let i = 0; i < 10; i++)
      batches.push(...(await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i, 200)] }])));
    await ob.stop(); // checkpointed: every row is in the database file
    const file = join(t.dir, 'outbox.db');
    const bytes = readFileSync(file);
    for (const seq of [4, 5, 9]) {
      const env = Buffer.from(batches[seq - 1].envelope);
      // Every copy: b-tree splits leave stale ones in free space, and only the live one matters.
      let copies = 0;
      for (let at = bytes.indexOf(env); at >= 0; at = bytes.indexOf(env, at + 1), copies++)
        bytes[at + Math.floor(env.length / 2)] ^= 0x10;
      assert.ok(copies > 0, `the envelope of seq ${seq} is in the file`);
    }
    writeFileSync(file, bytes);
    const raw = new Database(file, { readonly: true });
    assert.equal(raw.pragma('quick_check', { simple: true }), 'ok', "SQLite's own check cannot see it");
    raw.close();

    const again = makeOutbox(t.dir, { clock, sealer });
    await again.start();
    try {
      const rows = again.peek(100);
      assert.deepEqual(
        rows.filter((r) => r.stream === Stream.TELEMETRY).map((r) => r.seq),
        [1, 2, 3, 6, 7, 8, 10],
      );
      for (const r of rows) verifyEnvelope(r.envelope, ring); // nothing kept that would fail at the collector
      const notices = rows
        .filter((r) => r.stream === Stream.EVENTS)
        .flatMap((r) => verifyEnvelope(r.envelope, ring).batch.events)
        .filter((e) => e.type === 'buffer.evicted')
        .map((e) => [
          e.details.stream,
          e.details.reason,
          e.details.from_seq,
          e.details.to_seq,
          e.details.epoch,
        ]);
      const epoch = String(again.epoch);
      assert.deepEqual(notices, [
        ['telemetry', 'corrupt', '4', '5', epoch],
        ['telemetry', 'corrupt', '9', '9', epoch],
      ]);
      assert.equal(again.stats().find((s) => s.stream === 'telemetry')?.pending.rows, 7);
      assert.equal((await again.append([{ stream: Stream.TELEMETRY, items: [reading(99)] }]))[0].seq, 11);
    } finally {
      await again.stop();
    }
    const kept = new Database(file, { readonly: true });
    assert.deepEqual(
      kept.prepare('SELECT seq FROM outbox_quarantined ORDER BY seq').all(),
      [{ seq: 4 }, { seq: 5 }, { seq: 9 }],
      'the damaged rows are kept aside for forensics',
    );
    kept.close();
    // Reopened, nothing is reported twice.
    const third = makeOutbox(t.dir, { clock, sealer });
    await third.start();
    assert.equal(third.peek(100).filter((r) => r.stream === Stream.EVENTS).length, 1);
    await third.stop();
  } finally {
    t.cleanup();
  }
});

it('an outbox from before the checksum column: its rows are kept unchecked, new rows are checked', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const { sealer } = testSealer('gw-test', clock);
  try {
    const ob = makeOutbox(t.dir, { clock, sealer });
    await ob.start();
    await ob.append([{ stream: Stream.TELEMETRY, items: [reading(1)] }]);
    await ob.append([{ stream: Stream.TELEMETRY, items: [reading(2)] }]);
    await ob.stop();
    const file = join(t.dir, 'outbox.db');
    const db = new Database(file);
    db.exec('ALTER TABLE outbox DROP COLUMN crc');
    db.close();

    const again = makeOutbox(t.dir, { clock, sealer });
    await again.start();
    assert.deepEqual(
      again.peek(10).map((r) => r.seq),
      [1, 2],
      'old rows without a checksum are not taken for damaged',
    );
    await again.append([{ stream: Stream.TELEMETRY, items: [reading(3)] }]);
    await again.stop();
    const w = new Database(file);
    w.prepare('UPDATE outbox SET crc = NULL WHERE seq = 3').run();
    w.close();

    const third = makeOutbox(t.dir, { clock, sealer });
    await third.start();
    assert.deepEqual(
      third.peek(10).map((r) => [r.stream, r.seq]),
      [
        [Stream.EVENTS, 1],
        [Stream.TELEMETRY, 1],
        [Stream.TELEMETRY, 2],
      ],
      'a new row that lost its checksum is set aside and reported',
    );
    await third.stop();
  } finally {
    t.cleanup();
  }
});
