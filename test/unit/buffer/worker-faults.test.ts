import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, readlinkSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import type { Outbox } from '../../../agent/src/buffer/index.js';
import { ManualClock, Stream } from '../../../agent/src/core/index.js';
import { verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { corruptSeqs, makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

const code = (e: unknown) => (e as { code?: string }).code;
const one = (ob: Outbox, n: number) => ob.append([{ stream: Stream.TELEMETRY, items: [reading(n)] }]);
const until = async (ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), 'condition never met');
};
const seqs = (ob: Outbox) =>
  ob
    .peek(10_000)
    .filter((r) => r.stream === Stream.TELEMETRY)
    .map((r) => r.seq);

it('appends from many submits during one commit go in one transaction, each resolving after it (group commit)', async () => {
  const t = tempDir();
  const ob = makeOutbox(t.dir);
  await ob.start();
  try {
    const before = ob.commits();
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => one(ob, i)));
    assert.deepEqual(
      all.map(([b]) => b.seq),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    assert.ok(ob.commits() - before < 50, `${ob.commits() - before} commits for 50 appends`);
    assert.deepEqual(
      seqs(ob),
      Array.from({ length: 50 }, (_, i) => i + 1),
      'every resolved append is stored',
    );
  } finally {
    await ob.stop();
    t.cleanup();
  }
});

it('the queue to the worker is bounded: past it a submit is refused with BUFFER_BUSY and nothing of it is stored', async () => {
  const t = tempDir();
  const ob = makeOutbox(t.dir, { pendingLimit: { batches: 3, bytes: 1 << 20 } });
  await ob.start();
  try {
    const sent = [one(ob, 1), one(ob, 2), one(ob, 3)];
    assert.equal(ob.pending().batches, 3);
    await assert.rejects(one(ob, 4), (e) => code(e) === 'BUFFER_BUSY');
    await Promise.all(sent);
    assert.equal(ob.pending().batches, 0);
    const [next] = await one(ob, 5);
    assert.equal(next.seq, 4, 'the refused submit used no seq');
    assert.deepEqual(seqs(ob), [1, 2, 3, 4]);
  } finally {
    await ob.stop();
    t.cleanup();
  }
});

it('a worker that dies: what waited is refused, the fault is reported, the worker restarts with nothing accepted lost', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const faults: string[] = [];
  let recovered = 0;
  const ob = makeOutbox(t.dir, {
    clock,
    onFault: (e) => faults.push(code(e) ?? ''),
    onRecover: () => recovered++,
  });
  await ob.start();
  try {
    for (let i = 1; i <= 5; i++) await one(ob, i);
    const waiting = one(ob, 6).then(
      () => 'accepted',
      (e) => code(e),
    );
    await ob.killWorker();
    const fate = await waiting;
    assert.ok(fate === 'accepted' || fate === 'BUFFER_WORKER_DIED', `the append in flight: ${fate}`);
    assert.deepEqual(faults, ['BUFFER_WORKER_DIED']);
    assert.equal(code(ob.fault), 'BUFFER_WORKER_DIED');
    await assert.rejects(one(ob, 7), (e) => code(e) === 'BUFFER_WORKER_DIED', 'refused while it is down');
    clock.advance(1_000);
    while (recovered === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(ob.fault, null);
    const kept = seqs(ob);
    assert.deepEqual(kept.slice(0, 5), [1, 2, 3, 4, 5], 'every accepted batch is still there');
    const [b] = await one(ob, 8);
    assert.equal(b.seq, kept.length + 1, 'the chain goes on from what was committed');
  } finally {
    await ob.stop();
    t.cleanup();
  }
});

it('the outbox file corrupted while it runs: quarantined, a new epoch, buffer.quarantined owed, what still reads salvaged and the rest reported by exact range', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const { sealer, ring } = testSealer('gw-test', clock);
  const faults: string[] = [];
  const open = async () => {
    const o = makeOutbox(t.dir, { clock, sealer, onFault: (e) => faults.push(code(e) ?? '') });
    await o.start();
    return o;
  };
  let ob = await open();
  try {
    for (let i = 0; i < 200; i++) await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i, 2000)] }]);
    await ob.stop(); // checkpointed: the rows are in the database file, not only in the WAL
    ob = await open();
    const epoch = ob.epoch;
    const file = join(t.dir, 'outbox.db');
    // Something scribbles over the database while the agent runs (the WAL is left alone).
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(statSync(file).size, 0x5a), 0);
    closeSync(fd);
    // Twenty batches accepted after the scribble, then a read finds the file bad.
    let accepted = 200;
    const after: number[] = [];
    for (let i = 0; i < 100 && ob.epoch === epoch; i++) {
      if (i >= 20) ob.read(Stream.TELEMETRY, 0, 1000);
      await one(ob, 1000 + i).then(
        ([b]) => {
          if (b.epoch !== epoch) return;
          accepted = b.seq;
          after.push(b.seq);
        },
        (e) => faults.push(`append ${code(e)} ${e.message}`),
      );
    }
    assert.notEqual(ob.epoch, epoch, `a new epoch ${faults.slice(0, 5)}`);
    assert.ok(after.length >= 20, `${after.length} accepted after the scribble`);
    await ob.idle();
    assert.ok(faults.includes('BUFFER_QUARANTINED'), `faults reported: ${faults}`);
    assert.ok(
      readdirSync(t.dir).some((f) => /^outbox\.db\.quarantined-\d+$/.test(f)),
      'the bad file is kept',
    );
    const events = ob
      .peek(100)
      .filter((r) => r.stream === Stream.EVENTS)
      .flatMap((r) => verifyEnvelope(r.envelope, ring).batch);
    assert.equal(events[0].events[0].type, 'buffer.quarantined');
    assert.equal(events[0].epoch, ob.epoch);
    // What was accepted after the scribble is in the WAL: salvaged, delivered in its own epoch.
    assert.equal(ob.salvage.epochOf(Stream.TELEMETRY), epoch);
    const salvaged = ob.salvage.read(Stream.TELEMETRY, 0, 1000);
    for (const r of salvaged) assert.equal(verifyEnvelope(r.envelope, ring).batch.seq, r.seq);
    const kept = salvaged.map((r) => r.seq);
    for (const q of after) assert.ok(kept.includes(q), `seq ${q} accepted after the scribble is salvaged`);
    // Every other batch of the old epoch is reported by exact range, and none that was salvaged.
    const reported = corruptSeqs(events[0].events, epoch);
    assert.deepEqual(
      [...reported, ...kept].sort((x, y) => x - y),
      Array.from({ length: accepted }, (_, i) => i + 1),
      'each seq accepted in the old epoch is salvaged or reported, never both',
    );
    const [b] = await one(ob, 5000);
    assert.equal(b.epoch, ob.epoch, 'appends go on in the new epoch');
    assert.equal(ob.integrityCheck(), 'ok');
  } finally {
    await ob.stop();
    t.cleanup();
  }
});

it('a worker that dies while it opens is restarted once: one restart pending, never a second worker on the file', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const ob = makeOutbox(t.dir, { clock, onFault: () => undefined });
  const pendingTimers = () => (clock as unknown as { timers: Map<number, unknown> }).timers.size;
  const dbFds = () =>
    readdirSync('/proc/self/fd').filter((f) => {
      try {
        return readlinkSync(`/proc/self/fd/${f}`) === join(t.dir, 'outbox.db');
      } catch {
        return false;
      }
    }).length;
  await ob.start();
  try {
    const open = dbFds();
    await ob.killWorker();
    await until(() => pendingTimers() === 1);
    clock.advance(500);
    await ob.killWorker();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(pendingTimers(), 1, 'one restart pending after a death while opening');
    clock.advance(60_000);
    await until(() => ob.fault === null);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(dbFds(), open, 'one writer and one reader on the file, as before the deaths');
    await one(ob, 1);
  } finally {
    await ob.stop();
    t.cleanup();
  }
});

it('while a restarted worker opens, appends are refused: none chains on batches the dead worker never committed', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const ob = makeOutbox(t.dir, { clock, onFault: () => undefined });
  await ob.start();
  try {
    for (let i = 1; i <= 5; i++) await one(ob, i);
    const inflight = [6, 7, 8].map((n) => one(ob, n).then(([b]) => b.seq, code));
    await ob.killWorker();
    const fates = await Promise.all(inflight);
    clock.advance(500);
    await assert.rejects(one(ob, 100), (e) => code(e) === 'BUFFER_WORKER_DIED');
    await until(() => ob.fault === null);
    // A batch refused as the worker died may still have committed (its answer died with the worker).
    const [next] = await one(ob, 101);
    assert.ok(next.seq >= 6 + fates.filter((f) => typeof f === 'number').length && next.seq <= 9);
    assert.deepEqual(
      seqs(ob),
      Array.from({ length: next.seq }, (_, i) => i + 1),
    );
  } finally {
    await ob.stop();
    t.cleanup();
  }
});
