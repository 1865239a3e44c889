import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ManualClock, Stream, silentLogger } from '../../../agent/src/core/index.js';
import { Drain, Topics } from '../../../agent/src/sync/index.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

it('the drain keeps to its rate limit and its in-flight window (timers injected)', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const ob = makeOutbox(t.dir, { clock, sealer: testSealer('gw', clock).sealer });
  await ob.start();
  try {
    for (let i = 0; i < 100; i++) ob.append([{ stream: Stream.TELEMETRY, items: [reading(i)] }]);
    // A stand-in for the broker's session: this test is about pacing, not MQTT (the integration tests use Mosquitto).
    const pending: (() => void)[] = [];
    let published = 0;
    const client = {
      publish: (_t: string, _p: Buffer, _o: unknown, cb: (e?: Error, p?: { reasonCode: number }) => void) => {
        published++;
        pending.push(() => cb(undefined, { reasonCode: 0 }));
      },
    };
    const drain = new Drain({
      outbox: ob,
      topics: new Topics('edge/v1', 'gw'),
      ackMode: 'collector',
      ackTimeoutMs: 60_000,
      inflight: 8,
      inflightBytes: 1024 * 1024,
      publishTimeoutMs: 30_000,
      rateLimit: 20,
      verifyAck: () => null,
      clock,
      log: silentLogger(),
    });
    await drain.start();
    drain.attach(client, 65_535);
    assert.equal(published, 8, 'the window caps what is in flight');
    for (const f of pending.splice(0)) f();
    assert.equal(published, 16);
    for (const f of pending.splice(0)) f();
    assert.equal(published, 20, 'then the rate limit: 20 per second');
    for (const f of pending.splice(0)) f();
    assert.equal(published, 20);
    clock.advance(500);
    assert.ok(published > 20 && published <= 30, `half a second later: ${published}`);
    await drain.stop();
  } finally {
    await ob.stop();
    t.cleanup();
  }
});
