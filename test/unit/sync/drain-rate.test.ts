import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { ManualClock, Stream, silentLogger } from '../../../agent/src/core/index.js';
import { LocalSocket, request } from '../../../agent/src/diag/index.js';
import { Drain, type DrainStats, MAX_ACK_WAIT_FACTOR, Topics } from '../../../agent/src/sync/index.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

it('the drain keeps to its rate limit and its in-flight window (timers injected)', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const ob = makeOutbox(t.dir, { clock, sealer: testSealer('gw', clock).sealer });
  await ob.start();
  try {
    for (let i = 0; i < 100; i++) await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i)] }]);
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

it('a collector that does not ack gets the window again at a doubling wait, back to the timeout at the first ack (timers injected)', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const ob = makeOutbox(t.dir, { clock, sealer: testSealer('gw', clock).sealer });
  await ob.start();
  try {
    for (let i = 0; i < 4; i++) await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i)] }]);
    let published = 0;
    const client = {
      publish: (_t: string, _p: Buffer, _o: unknown, cb: (e?: Error, p?: { reasonCode: number }) => void) => {
        published++;
        cb(undefined, { reasonCode: 0 });
      },
    };
    let ackUpTo = 0;
    const drain = new Drain({
      outbox: ob,
      topics: new Topics('edge/v1', 'gw'),
      ackMode: 'collector',
      ackTimeoutMs: 2_000,
      inflight: 100,
      inflightBytes: 1024 * 1024,
      publishTimeoutMs: 30_000,
      rateLimit: 0,
      verifyAck: () => ({ stream: Stream.TELEMETRY, epoch: ob.epoch, upToSeq: ackUpTo, deviceId: 'gw' }),
      clock,
      log: silentLogger(),
    });
    await drain.start();
    drain.attach(client, 65_535);
    assert.equal(published, 4, 'the four rows go out once');
    // With no ack, the window goes again at a wait that doubles (4, 8, 16 s...), never more often;
    // between, the first row alone at most once a round (a head-of-line probe, AckWait).
    const resendsAt: number[] = [];
    let last = published;
    let probes = 0;
    for (let s = 0; s < 120; s++) {
      clock.advance(500);
      const alone = drain.stats().probes - probes;
      assert.ok(alone <= 1, `${alone} rows probed at once`);
      if (published - last > alone) resendsAt.push(s);
      last = published;
      probes += alone;
    }
    assert.ok(probes >= 1 && probes <= resendsAt.length + 1, `${probes} probes, ${resendsAt.length} rounds`);
    assert.ok(resendsAt.length >= 3 && resendsAt.length <= 6, `resend rounds in 60 s: ${resendsAt.length}`);
    const gaps = resendsAt.slice(1).map((v, i) => v - resendsAt[i]);
    for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i] >= gaps[i - 1], `gaps grow: ${gaps.join(',')}`);
    assert.ok(drain.stats().ackWaitMs > 2_000 && drain.stats().ackWaitMs <= 2_000 * MAX_ACK_WAIT_FACTOR);
    ackUpTo = 2;
    drain.onAck(Buffer.from('verified by the stand-in'));
    assert.equal(drain.stats().ackWaitMs, 2_000, 'an ack that deletes rows resets the wait');
    await ob.idle();
    assert.equal(
      ob.stats().reduce((n, x) => n + x.pending.rows + x.sent.rows, 0),
      2,
    );
    await drain.stop();
  } finally {
    await ob.stop();
    t.cleanup();
  }
});

const BACKLOG = 2000;

/**
 * Issue #12: `status` waited for the drain. A broker session that answers every
 * publish at once (mqtt.js handles each PUBACK of a read in its own process tick,
 * so one turn of the event loop can chain them without end) must still leave the
 * event loop free for the local socket: the answer comes while rows are left.
 */
it('a status request on the local socket is answered while the drain still has a large backlog', async () => {
  const t = tempDir();
  const clock = new ManualClock();
  const ob = makeOutbox(t.dir, { clock, sealer: testSealer('gw', clock).sealer });
  await ob.start();
  const path = join(t.dir, 'agent.sock');
  let drain: Drain | undefined;
  const sock = new LocalSocket({
    name: 'agent.sock',
    path,
    mode: 0o660,
    maxLineBytes: 4096,
    commands: { status: () => drain?.stats() ?? null },
    clock,
    log: silentLogger(),
  });
  await sock.start();
  try {
    for (let b = 0; b < BACKLOG; b += 500)
      await ob.append(
        Array.from({ length: 500 }, (_, i) => ({ stream: Stream.TELEMETRY, items: [reading(b + i)] })),
      );
    const client = {
      publish: (_t: string, _p: Buffer, _o: unknown, cb: (e?: Error, p?: { reasonCode: number }) => void) => {
        process.nextTick(() => cb(undefined, { reasonCode: 0 }));
      },
    };
    drain = new Drain({
      outbox: ob,
      topics: new Topics('edge/v1', 'gw'),
      ackMode: 'collector',
      ackTimeoutMs: 600_000,
      inflight: 100,
      inflightBytes: 1024 * 1024,
      publishTimeoutMs: 60_000,
      rateLimit: 0,
      verifyAck: () => null,
      clock,
      log: silentLogger(),
    });
    await drain.start();
    const answer = request(path, 'status', {}, 30_000) as Promise<DrainStats>;
    drain.attach(client, 65_535);
    const st = await answer;
    assert.ok(
      st.pubacked < BACKLOG,
      `answered with ${BACKLOG - st.pubacked} of ${BACKLOG} rows still to send`,
    );
    const d = drain;
    while (d.stats().pubacked < BACKLOG) await new Promise((r) => setImmediate(r));
    assert.equal(d.stats().published, BACKLOG, 'then every row went out, once');
    await d.stop();
  } finally {
    await sock.stop();
    await ob.stop();
    t.cleanup();
  }
});
