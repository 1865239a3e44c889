import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Stream } from '../../../agent/src/core/index.js';
import { makeOutbox, reading } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

it('rows deleted one by one out of order (ackMode "broker") move the floor past every row gone, not only the last cut (#12)', async () => {
  const t = tempDir();
  const ob = makeOutbox(t.dir);
  await ob.start();
  try {
    for (let i = 0; i < 6; i++) await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i)] }]);
    const e = ob.epoch;
    const floor = async (...seqs: number[]) => {
      for (const q of seqs) await ob.ackOne(Stream.TELEMETRY, e, q);
      await ob.idle();
      return ob.floor(Stream.TELEMETRY);
    };
    assert.equal(await floor(2, 3), 0, 'seq 1 is still stored');
    assert.equal(await floor(1), 3, 'seq 1 gone: 2 and 3 went before it');
    assert.equal(await floor(6, 5), 3);
    assert.equal(await floor(4), 6, 'every row gone: the floor is the head');
    await ob.append([{ stream: Stream.TELEMETRY, items: [reading(7)] }]);
    assert.equal(await floor(7), 7, 'a later cut reaches it again');
  } finally {
    await ob.stop();
    t.cleanup();
  }
});
