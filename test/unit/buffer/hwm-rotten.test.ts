// A high-water mark whose CRC holds but whose numbers are absurd (bit rot before the CRC was
// computed, a file planted by hand, a mark of another build): it must read as absent, never
// crash the agent, claim a loss beyond what a seq can be, or spoil the salvage of the other streams.
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { crc32 } from 'node:zlib';
import { ManualClock, STREAMS, Stream } from '../../../agent/src/core/index.js';
import { verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { event, makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

const SEQS_AT = 16;
const FLOORS_AT = 16 + 40 * STREAMS.length;

/** Rewrites one stream's seq and/or floor in a v3 mark, with a CRC that matches. */
function rot(file: string, stream: Stream, v: { seq?: number; floor?: number; epoch?: number }): void {
  const b = readFileSync(file);
  const i = STREAMS.indexOf(stream);
  if (v.seq !== undefined) b.writeDoubleLE(v.seq, SEQS_AT + 8 * i);
  if (v.floor !== undefined) b.writeDoubleLE(v.floor, FLOORS_AT + 8 * i);
  if (v.epoch !== undefined) b.writeDoubleLE(v.epoch, 8);
  b.writeUInt32LE(crc32(b.subarray(0, b.length - 4)), b.length - 4);
  writeFileSync(file, b);
}

function scribble(file: string, page: number): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, (page - 1) * 4096);
  closeSync(fd);
}

const ABSURD: { name: string; v: { seq?: number; floor?: number } }[] = [
  { name: 'seq 2^53', v: { seq: 2 ** 53 } },
  { name: 'seq 2^53-1', v: { seq: 2 ** 53 - 1 } },
  { name: 'seq Infinity', v: { seq: Number.POSITIVE_INFINITY } },
  { name: 'seq NaN', v: { seq: Number.NaN } },
  { name: 'seq 7.5', v: { seq: 7.5 } },
  { name: 'seq -3', v: { seq: -3 } },
  { name: 'floor -5', v: { floor: -5 } },
  { name: 'floor 2.5', v: { floor: 2.5 } },
  { name: 'floor > seq', v: { floor: 1e9 } },
  { name: 'floor NaN', v: { floor: Number.NaN } },
];

for (const { name, v } of ABSURD) {
  it(`a rotten mark (events ${name}) at an intact open: no crash, no absurd loss, appends go on`, async () => {
    const t = tempDir();
    const clock = new ManualClock();
    const { sealer, ring } = testSealer('gw-test', clock);
    try {
      let ob = makeOutbox(t.dir, { clock, sealer });
      await ob.start();
      for (let i = 0; i < 5; i++) await ob.append([{ stream: Stream.EVENTS, items: [event(i)] }]);
      await ob.stop();
      rot(join(t.dir, 'outbox.db.hwm'), Stream.EVENTS, v);
      ob = makeOutbox(t.dir, { clock, sealer });
      await ob.start();
      try {
        const notices = ob
          .peek(1000)
          .filter((r) => r.stream === Stream.EVENTS)
          .flatMap((r) => verifyEnvelope(r.envelope, ring).batch.events)
          .filter((e) => e.type === 'buffer.evicted');
        for (const n of notices)
          assert.ok(
            Number(n.details.to_seq) < 2 ** 40,
            `no absurd loss claimed: ${JSON.stringify(n.details)}`,
          );
        const head = ob.head(Stream.EVENTS).seq;
        assert.ok(Number.isSafeInteger(head) && head >= 5 && head < 2 ** 40, `head ${head}`);
        const [b] = await ob.append([{ stream: Stream.EVENTS, items: [event(99)] }]);
        assert.equal(b.seq, head + 1);
      } finally {
        await ob.stop();
      }
    } finally {
      t.cleanup();
    }
  });

  it(`a rotten mark (events ${name}) with an outbox corrupt at open: telemetry is still salvaged`, async () => {
    const t = tempDir();
    const clock = new ManualClock();
    const { sealer, ring } = testSealer('gw-test', clock);
    try {
      let ob = makeOutbox(t.dir, { clock, sealer });
      await ob.start();
      for (let i = 0; i < 20; i++) await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i, 1500)] }]);
      for (let i = 0; i < 3; i++) await ob.append([{ stream: Stream.EVENTS, items: [event(i)] }]);
      const epoch = ob.epoch;
      await ob.stop();
      rot(join(t.dir, 'outbox.db.hwm'), Stream.EVENTS, v);
      scribble(join(t.dir, 'outbox.db'), 1);
      ob = makeOutbox(t.dir, { clock, sealer });
      await ob.start();
      try {
        assert.notEqual(ob.epoch, epoch);
        const kept = ob.salvage.read(Stream.TELEMETRY, 0, 1000).length;
        assert.ok(kept >= 15, `telemetry salvaged despite the rotten events entry: ${kept}`);
        const events = ob
          .peek(1000)
          .filter((r) => r.stream === Stream.EVENTS)
          .flatMap((r) => verifyEnvelope(r.envelope, ring).batch.events);
        for (const n of events.filter((e) => e.type === 'buffer.evicted'))
          assert.ok(
            Number(n.details.to_seq) < 2 ** 40,
            `no absurd loss claimed: ${JSON.stringify(n.details)}`,
          );
      } finally {
        await ob.stop();
      }
    } finally {
      t.cleanup();
    }
  });
}
