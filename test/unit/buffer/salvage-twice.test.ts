// Left open (hostile review of the v3 mark): rows salvaged from a first quarantine wait in the new
// file's salvaged table in their old epoch. Once a group of the new epoch rewrote the mark, it holds
// only the new epoch's floors and seqs, so a second corruption found at open wants nothing of the old
// epoch: its rows still unsent are neither salvaged again nor reported by range (only
// buffer.quarantined says something was lost). `todo` until the mark (or a file beside it) keeps the
// salvaged table's ranges.
import assert from 'node:assert/strict';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { ManualClock, Stream } from '../../../agent/src/core/index.js';
import { verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { corruptSeqs, makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

function scribble(file: string, page: number): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, (page - 1) * 4096);
  closeSync(fd);
}

it('salvaged rows of an old epoch survive a second corruption at open', {
  todo: 'the mark keeps one epoch',
}, async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const { sealer, ring } = testSealer('gw-test', clock);
  try {
    let ob = makeOutbox(t.dir, { clock, sealer });
    await ob.start();
    for (let i = 0; i < 20; i++) await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i, 1500)] }]);
    const e1 = ob.epoch;
    await ob.stop();
    scribble(join(t.dir, 'outbox.db'), 1);
    ob = makeOutbox(t.dir, { clock, sealer });
    await ob.start();
    const first = ob.salvage.read(Stream.TELEMETRY, 0, 1000).map((r) => r.seq);
    assert.ok(first.length >= 15, `first salvage ${first.length}`);
    await ob.append([{ stream: Stream.TELEMETRY, items: [reading(99)] }]); // the mark is now of the new epoch
    await ob.stop();
    scribble(join(t.dir, 'outbox.db'), 1);
    ob = makeOutbox(t.dir, { clock, sealer });
    await ob.start();
    try {
      const again =
        ob.salvage.epochOf(Stream.TELEMETRY) === e1
          ? ob.salvage.read(Stream.TELEMETRY, 0, 1000).map((r) => r.seq)
          : [];
      const events = ob
        .peek(1000)
        .filter((r) => r.stream === Stream.EVENTS)
        .flatMap((r) => verifyEnvelope(r.envelope, ring).batch.events);
      const reported = corruptSeqs(
        events.filter((e) => e.type === 'buffer.evicted' && e.details.epoch === String(e1)),
        e1,
      );
      const missing = first.filter((s) => !again.includes(s) && !reported.includes(s));
      assert.deepEqual(
        missing,
        [],
        `old-epoch salvaged rows neither salvaged again nor reported (again ${again.length}, reported ${reported.length})`,
      );
    } finally {
      await ob.stop();
    }
  } finally {
    t.cleanup();
  }
});
