import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { asidePath, journalPath, moveAside, writeJournal } from '../../../agent/src/buffer/quarantine.js';
import { RestartBackoff } from '../../../agent/src/buffer/restart-backoff.js';
import { OutboxStore } from '../../../agent/src/buffer/store.js';
import type { StoreState } from '../../../agent/src/buffer/wire.js';
import { ManualClock, Stream } from '../../../agent/src/core/index.js';
import { makeOutbox, reading } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

const ctx = { now: 1_767_000_000_000, up: 0, free: Number.POSITIVE_INFINITY };

/** An outbox of ten telemetry rows, closed; its epoch. */
async function tenRows(dir: string): Promise<number> {
  const ob = makeOutbox(dir);
  await ob.start();
  for (let i = 0; i < 10; i++) await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i)] }]);
  const epoch = ob.epoch;
  await ob.stop();
  return epoch;
}

const store = (file: string) =>
  new OutboxStore({ file, maxBytes: 1 << 30, minFreeBytes: 0, epochs: [424242], log: () => undefined });

/** The journal a quarantine writes first: seqs 1..10 unsent, plus seqs 11..12 the file never got to hold. */
const journal = (file: string, epoch: number) => ({
  aside: asidePath(file, ctx.now),
  reason: 'quick_check: page 3 is never used',
  nowMs: ctx.now,
  wanted: [{ stream: Stream.TELEMETRY, epoch, fromSeq: 1, toSeq: 12 }],
  owed: [],
});

const owedTypes = (st: StoreState) => {
  return {
    epoch: st.epoch,
    notices: st.debts.map((d) => {
      if (!('event' in d.item)) return 'not a notice';
      const e = d.item.event;
      return e.type === 'buffer.evicted'
        ? `${e.type} ${e.details.epoch} ${e.details.from_seq}..${e.details.to_seq}`
        : e.type;
    }),
    salvage: st.salvage.map((f) => [f.stream, f.epoch, f.rows, f.head]),
  };
};

it('a quarantine that crashes after its rename: the next open finishes it from the journal (salvage, alert, exact notices) (#12)', async () => {
  const t = tempDir();
  try {
    const file = join(t.dir, 'outbox.db');
    const epoch = await tenRows(t.dir);
    // replace() in the order it runs, cut short after the rename: the new file was never made.
    writeJournal(file, journal(file, epoch));
    moveAside(file, asidePath(file, ctx.now));
    const s = store(file);
    const st = s.open(ctx);
    try {
      assert.deepEqual(owedTypes(st), {
        epoch: 424242,
        notices: ['buffer.quarantined', `buffer.evicted ${epoch} 11..12`],
        salvage: [[Stream.TELEMETRY, epoch, 10, 12]],
      });
      assert.ok(!existsSync(journalPath(file)), 'the journal goes once its notices committed');
    } finally {
      s.close(0);
    }
    // Opened again: nothing owed twice, the salvage kept.
    const again = store(file);
    const st2 = again.open(ctx);
    try {
      assert.deepEqual(owedTypes(st2).salvage, [[Stream.TELEMETRY, epoch, 10, 12]]);
      assert.equal(owedTypes(st2).notices.length, 2);
    } finally {
      again.close(0);
    }
  } finally {
    t.cleanup();
  }
});

it('a quarantine that crashes before its rename: the next open moves the file aside and finishes it', async () => {
  const t = tempDir();
  try {
    const file = join(t.dir, 'outbox.db');
    const epoch = await tenRows(t.dir);
    writeJournal(file, journal(file, epoch));
    const s = store(file);
    const st = s.open(ctx);
    try {
      assert.ok(existsSync(asidePath(file, ctx.now)), 'the bad file is kept aside');
      assert.deepEqual(owedTypes(st).notices, ['buffer.quarantined', `buffer.evicted ${epoch} 11..12`]);
      assert.notEqual(owedTypes(st).epoch, epoch, 'a new epoch');
    } finally {
      s.close(0);
    }
  } finally {
    t.cleanup();
  }
});

it('a journal found after its quarantine committed (the crash came before its removal) owes nothing twice', async () => {
  const t = tempDir();
  try {
    const file = join(t.dir, 'outbox.db');
    const epoch = await tenRows(t.dir);
    const j = journal(file, epoch);
    writeJournal(file, j);
    moveAside(file, j.aside);
    const s = store(file);
    s.open(ctx);
    s.close(0);
    writeJournal(file, j);
    const again = store(file);
    const st2 = again.open(ctx);
    try {
      assert.equal(owedTypes(st2).notices.length, 2);
      assert.deepEqual(owedTypes(st2).salvage, [[Stream.TELEMETRY, epoch, 10, 12]]);
      assert.ok(!existsSync(journalPath(file)));
    } finally {
      again.close(0);
    }
  } finally {
    t.cleanup();
  }
});

it('the worker restart backoff goes back to its first step only after a worker stayed up 60 s (#12)', () => {
  const clock = new ManualClock();
  const b = new RestartBackoff(clock);
  assert.equal(b.next(), 500);
  b.up();
  clock.advance(59_000);
  b.down(); // died again before it counted as healthy
  assert.equal(b.next(), 1000);
  assert.equal(b.next(), 2000);
  b.up();
  clock.advance(60_000);
  assert.equal(b.next(), 500, 'healthy for 60 s: back to the first step');
  for (let i = 0; i < 10; i++) b.next();
  assert.equal(b.next(), 30_000, 'never above the max');
});

it('an outbox worker that dies again soon after a restart waits longer before the next one', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  let recovered = 0;
  const ob = makeOutbox(t.dir, { clock, onFault: () => undefined, onRecover: () => recovered++ });
  await ob.start();
  const until = async (ok: () => boolean) => {
    for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(ok(), 'condition never met');
  };
  try {
    await ob.killWorker();
    await until(() => ob.fault !== null);
    clock.advance(500);
    await until(() => recovered === 1);
    clock.advance(10_000); // up, but not for long
    await ob.killWorker();
    await until(() => ob.fault !== null);
    clock.advance(500);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(recovered, 1, 'not restarted after 500 ms this time');
    clock.advance(500);
    await until(() => recovered === 2);
  } finally {
    await ob.stop();
    t.cleanup();
  }
});

it('a file quarantined again while it still holds salvaged rows of an older epoch: they are salvaged again, not lost', async () => {
  const t = tempDir();
  try {
    const file = join(t.dir, 'outbox.db');
    const epoch = await tenRows(t.dir);
    writeJournal(file, journal(file, epoch));
    moveAside(file, asidePath(file, ctx.now));
    const s = new OutboxStore({
      file,
      maxBytes: 1 << 30,
      minFreeBytes: 0,
      epochs: [424242, 434343],
      log: () => undefined,
    });
    s.open(ctx);
    try {
      const st = s.replace(new Error('quick_check: again'), { ...ctx, now: ctx.now + 1 });
      assert.equal(st.epoch, 434343);
      assert.deepEqual(
        st.salvage.map((f) => [f.stream, f.epoch, f.rows, f.head]),
        [[Stream.TELEMETRY, epoch, 10, 12]],
      );
    } finally {
      s.close(0);
    }
  } finally {
    t.cleanup();
  }
});

it('a hostile or damaged journal is never acted on: the live file stays, nothing is deleted, the open succeeds and reports it (#12)', async () => {
  const t = tempDir();
  try {
    const file = join(t.dir, 'outbox.db');
    const epoch = await tenRows(t.dir);
    const bad = [
      '{"aside": "/nonexistent/dir/x", "reason": "", "nowMs": 1, "wanted": [], "owed": []}',
      JSON.stringify({ ...journal(file, epoch), wanted: [{ stream: 'x', epoch, fromSeq: '1', toSeq: 3 }] }),
      JSON.stringify({ ...journal(file, epoch), owed: [{ stream: Stream.TELEMETRY, reading: 7 }] }),
      '{"aside": ',
      'null',
    ];
    for (const [i, text] of bad.entries()) {
      writeFileSync(journalPath(file), text);
      const s = store(file);
      const st = s.open(ctx);
      try {
        const o = owedTypes(st);
        assert.equal(o.epoch, epoch, `journal ${i}: the live file is still the outbox`);
        assert.equal(
          st.totals.find(([s]) => s === Stream.TELEMETRY)?.[1].rows,
          10,
          `journal ${i}: no row lost`,
        );
        assert.equal(
          o.notices.filter((n) => n === 'buffer.quarantined').length,
          i + 1,
          `journal ${i} reported`,
        );
        assert.ok(!existsSync(journalPath(file)), 'the journal is moved aside, not read again');
        assert.ok(existsSync(`${journalPath(file)}.unreadable`));
      } finally {
        s.close(0);
      }
    }
  } finally {
    t.cleanup();
  }
});

it('a journal that claims more unsent seqs than an outbox can hold still opens: what reads is salvaged, the rest lost by exact range (#12)', async () => {
  const t = tempDir();
  try {
    const file = join(t.dir, 'outbox.db');
    const epoch = await tenRows(t.dir);
    writeJournal(file, {
      ...journal(file, epoch),
      wanted: [{ stream: Stream.TELEMETRY, epoch, fromSeq: 1, toSeq: 2 ** 52 }],
    });
    const s = store(file);
    try {
      const o = owedTypes(s.open(ctx));
      assert.deepEqual(o.notices, ['buffer.quarantined', `buffer.evicted ${epoch} 11..${2 ** 52}`]);
      assert.deepEqual(o.salvage, [[Stream.TELEMETRY, epoch, 10, 2 ** 52]], 'the rows there are salvaged');
    } finally {
      s.close(0);
    }
  } finally {
    t.cleanup();
  }
});
