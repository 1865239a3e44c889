import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { HighWaterMark } from '../../../agent/src/buffer/high-water.js';
import { OutboxStore } from '../../../agent/src/buffer/store.js';
import type { StoreOp } from '../../../agent/src/buffer/wire.js';
import { ManualClock, type SealedBatch, type Sealer, Stream } from '../../../agent/src/core/index.js';
import { type KeyRing, verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

// The high-water mark of a group is written before the group commits and synced beside the
// commit (docs/protocol.md, Durability). These are the two ways it can be left ahead of the file.

const ctx = { now: 1_767_000_000_000, up: 0, free: Number.POSITIVE_INFINITY };
const ZERO = new Uint8Array(32);

/** `n` telemetry batches sealed in a row after `after`. */
function sealRun(sealer: Sealer, after: { epoch: number; seq: number; prevHash: Uint8Array }, n: number) {
  const out: SealedBatch[] = [];
  let head = after;
  for (let i = 0; i < n; i++) {
    const b = sealer(Stream.TELEMETRY, [reading(head.seq + 1)], head);
    out.push(b);
    head = { epoch: b.epoch, seq: b.seq, prevHash: b.payloadHash };
  }
  return out;
}

function lostNotices(ob: ReturnType<typeof makeOutbox>, ring: KeyRing) {
  return ob
    .peek(1_000_000)
    .filter((r) => r.stream === Stream.EVENTS)
    .flatMap((r) => verifyEnvelope(r.envelope, ring).batch.events)
    .filter((e) => e.type === 'buffer.evicted')
    .map((e) => [e.details.stream, e.details.reason, e.details.from_seq, e.details.to_seq, e.details.epoch]);
}

it('a crash after the mark of a group was synced and before its commit: the group is reported lost and its seqs never reused', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const { sealer, ring } = testSealer('gw-test', clock);
  try {
    const ob = makeOutbox(t.dir, { clock, sealer });
    await ob.start();
    for (let i = 0; i < 10; i++) await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i)] }]);
    const head = ob.head(Stream.TELEMETRY);
    const epoch = ob.epoch;
    await ob.stop();
    // What a group of seqs 11..13 does before its commit, and the crash comes before the commit lands.
    const group = sealRun(sealer, head, 3);
    const heads = new Map([[Stream.TELEMETRY, { seq: head.seq, prevHash: head.prevHash }]]);
    const mark = new HighWaterMark(join(t.dir, 'outbox.db.hwm'));
    await mark.ahead(epoch, heads, new Map(), group);
    mark.close();

    const again = makeOutbox(t.dir, { clock, sealer });
    await again.start();
    try {
      assert.deepEqual(lostNotices(again, ring), [['telemetry', 'lost', '11', '13', String(epoch)]]);
      assert.equal(again.head(Stream.TELEMETRY).seq, 13);
      assert.equal(
        again.read(Stream.TELEMETRY, 0, 100).length,
        10,
        'the ten committed batches are all there',
      );
      const [next] = await again.append([{ stream: Stream.TELEMETRY, items: [reading(99)] }]);
      assert.equal(next.seq, 14, 'no seq of the cut group is reused');
      assert.deepEqual(
        Buffer.from(verifyEnvelope(next.envelope, ring).batch.prevHash),
        Buffer.from(group[2].payloadHash),
        'the chain goes on from the last batch sealed',
      );
    } finally {
      await again.stop();
    }
    const third = makeOutbox(t.dir, { clock, sealer });
    await third.start();
    try {
      assert.equal(lostNotices(third, ring).length, 1, 'reported once');
    } finally {
      await third.stop();
    }
  } finally {
    t.cleanup();
  }
});

it('a commit that fails after its mark was written: the mark is put back to the committed heads before the group is answered', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const { sealer, ring } = testSealer('gw-test', clock);
  const file = join(t.dir, 'outbox.db');
  try {
    const s = new OutboxStore({ file, maxBytes: 1 << 30, minFreeBytes: 0, epochs: [515151], log: () => {} });
    const st = s.open(ctx);
    const [b1, b2, b3] = sealRun(sealer, { epoch: st.epoch, seq: 0, prevHash: ZERO }, 3);
    const append = (batches: SealedBatch[]): StoreOp => ({ k: 'append', gen: 0, batches, settle: [] });
    await s.commit([append([b1])], ctx);
    const markOf = () => {
      const hw = new HighWaterMark(`${file}.hwm`).read();
      return [hw?.seqs.get(Stream.TELEMETRY), Buffer.from(hw?.hashes?.get(Stream.TELEMETRY) ?? [])];
    };
    assert.deepEqual(markOf(), [1, Buffer.from(b1.payloadHash)]);
    // Seq 1 again (the unique (stream, seq) refuses it), then 2 and 3: the mark goes to 3, the commit fails.
    await assert.rejects(s.commit([append([b1]), append([b2, b3])], ctx), /UNIQUE/);
    assert.deepEqual(markOf(), [1, Buffer.from(b1.payloadHash)], 'back to the committed head');
    s.close(0);

    // Nothing sealed after the failure meets a mark claiming its seq: no notice, seq 2 is the next.
    const ob = makeOutbox(t.dir, { clock, sealer });
    await ob.start();
    try {
      assert.deepEqual(lostNotices(ob, ring), []);
      const [next] = await ob.append([{ stream: Stream.TELEMETRY, items: [reading(2)] }]);
      assert.equal(next.seq, 2);
      assert.deepEqual(markOf(), [2, Buffer.from(next.payloadHash)]);
    } finally {
      await ob.stop();
    }
  } finally {
    t.cleanup();
  }
});
