import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Stream } from '../../../agent/src/core/index.js';
import { verifyEnvelope, ZERO_HASH } from '../../../agent/src/telemetry/index.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

it('a 100k-reading append/read/ack cycle keeps order and chain continuity', async () => {
  const t = tempDir();
  const { sealer, ring } = testSealer();
  const ob = makeOutbox(t.dir, { sealer });
  await ob.start();
  try {
    let n = 0;
    let expected = 0;
    let prev = ZERO_HASH;
    let lastSeq = 0;
    while (expected < 100_000) {
      // Ten batches of 100 per transaction, like the batcher's flushes.
      if (n < 100_000) {
        await ob.append(
          Array.from({ length: 10 }, () => ({
            stream: Stream.TELEMETRY,
            items: Array.from({ length: 100 }, () => reading(n++)),
          })),
        );
      }
      const rows = ob.read(Stream.TELEMETRY, lastSeq, 7);
      for (const r of rows) {
        const v = verifyEnvelope(r.envelope, ring);
        assert.equal(r.seq, lastSeq + 1);
        assert.deepEqual(Buffer.from(v.batch.prevHash), Buffer.from(prev));
        for (const rd of v.batch.readings) assert.equal(rd.value.value, expected++);
        prev = v.payloadHash;
        lastSeq = r.seq;
      }
      if (rows.length > 0) await ob.ack(Stream.TELEMETRY, ob.epoch, rows.at(-1)!.seq);
    }
    assert.equal(expected, 100_000);
    assert.equal(lastSeq, 1000);
    const st = ob.stats().find((s) => s.stream === 'telemetry')!;
    assert.equal(st.pending.rows + st.sent.rows, 0, 'everything acked is gone');
    assert.equal(ob.integrityCheck(), 'ok');
  } finally {
    await ob.stop();
    t.cleanup();
  }
});
