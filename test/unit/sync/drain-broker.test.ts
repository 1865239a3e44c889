import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ManualClock, Stream, silentLogger } from '../../../agent/src/core/index.js';
import { Drain, Topics } from '../../../agent/src/sync/index.js';
import { verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

it('ackMode broker: a row PUBACKed after one that was refused is not published again while its delete commits (#12)', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const { sealer, ring } = testSealer('gw', clock);
  const ob = makeOutbox(t.dir, { clock, sealer });
  await ob.start();
  try {
    for (let i = 0; i < 3; i++) await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i)] }]);
    const sent: number[] = [];
    const session = new FakeSession((o) => sent.push(verifyEnvelope(o.envelope, ring).batch.seq));
    const drain = new Drain({
      outbox: ob,
      topics: new Topics('edge/v1', 'gw'),
      ackMode: 'broker',
      ackTimeoutMs: 2_000,
      inflight: 10,
      inflightBytes: 1 << 20,
      publishTimeoutMs: 30_000,
      rateLimit: 0,
      verifyAck: () => null,
      clock,
      log: silentLogger(),
    });
    await drain.start();
    drain.attach(session, 65_535);
    const [first, ...rest] = session.ids();
    session.answer(first, 0x80); // seq 1 refused: due again at the next tick
    for (const id of rest) session.answer(id, 0); // seqs 2 and 3 PUBACKed: their deletes go to the worker
    clock.advance(1_000); // the next tick, before those deletes committed
    for (const id of session.ids()) session.answer(id, 0);
    await ob.idle();
    clock.advance(1_000);
    assert.deepEqual(sent, [1, 2, 3, 1], 'each row published once, the refused one again');
    assert.equal(ob.peek(10).length, 0, 'every row deleted at its PUBACK');
    await drain.stop();
  } finally {
    await ob.stop();
    t.cleanup();
  }
});
