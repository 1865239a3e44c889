// An outbox found corrupt when the agent starts (an SD card after a power cut): what it held
// unsent is known from the high-water mark (each stream's floor and seq), so what still reads
// is salvaged and delivered in its old epoch, and the rest is reported by exact range (hostile
// review: before, `wanted` was empty at open and the whole backlog went without a notice).
import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import type { Outbox } from '../../../agent/src/buffer/index.js';
import { ManualClock, Stream } from '../../../agent/src/core/index.js';
import { type KeyRing, verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { corruptSeqs, makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

const PAGE = 4096;

function scribble(file: string, page: number): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(PAGE, 0x5a), 0, PAGE, (page - 1) * PAGE);
  closeSync(fd);
}

function owedEvents(ob: Outbox, ring: KeyRing) {
  return ob
    .peek(1000)
    .filter((r) => r.stream === Stream.EVENTS)
    .flatMap((r) => verifyEnvelope(r.envelope, ring).batch.events);
}

it('an outbox corrupt at open: the rows above the floor that still read are salvaged in their old epoch, the rest reported by exact range, acked ones neither', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const { sealer, ring } = testSealer('gw-test', clock);
  try {
    let ob = makeOutbox(t.dir, { clock, sealer });
    await ob.start();
    for (let i = 0; i < 40; i++) await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i, 1500)] }]);
    const epoch = ob.epoch;
    assert.equal(await ob.ack(Stream.TELEMETRY, epoch, 10), 10, 'the collector took 1..10');
    await ob.stop(); // checkpointed: every row is in the database file
    const file = join(t.dir, 'outbox.db');
    // The header and schema page, and one page of rows, destroyed while the agent was down.
    scribble(file, 1);
    scribble(file, 6);

    ob = makeOutbox(t.dir, { clock, sealer });
    await ob.start();
    try {
      assert.notEqual(ob.epoch, epoch, 'a new epoch in a new file');
      assert.ok(readdirSync(t.dir).some((f) => /^outbox\.db\.quarantined-\d+$/.test(f)));
      const events = owedEvents(ob, ring);
      assert.ok(events.some((e) => e.type === 'buffer.quarantined'));
      assert.equal(ob.salvage.epochOf(Stream.TELEMETRY), epoch);
      const kept = ob.salvage.read(Stream.TELEMETRY, 0, 1000).map((r) => {
        const { batch } = verifyEnvelope(r.envelope, ring);
        assert.deepEqual([batch.epoch, batch.seq], [epoch, r.seq], 'sealed as it was');
        return r.seq;
      });
      assert.ok(kept.length >= 20, `${kept.length} rows salvaged`);
      const reported = corruptSeqs(events, epoch);
      assert.deepEqual(
        [...reported, ...kept].sort((x, y) => x - y),
        Array.from({ length: 30 }, (_, i) => 11 + i),
        'each unsent seq (11..40) is salvaged or reported, never both; acked 1..10 are neither',
      );
      const [b] = await ob.append([{ stream: Stream.TELEMETRY, items: [reading(99)] }]);
      assert.deepEqual([b.epoch, b.seq], [ob.epoch, 1], 'appends go on in the new epoch');
    } finally {
      await ob.stop();
    }
  } finally {
    t.cleanup();
  }
});
