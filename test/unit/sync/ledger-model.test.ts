import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import fc from 'fast-check';
import type { Outbox } from '../../../agent/src/buffer/index.js';
import { ManualClock, STREAMS, Stream, streamName } from '../../../agent/src/core/index.js';
import { verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { collectorDrain } from '../../helpers/drain.js';
import { FakeSession, type Outstanding } from '../../helpers/fake-session.js';
import { testSigner } from '../../helpers/keys.js';
import { event, makeOutbox, reading, report, testSealer } from '../../helpers/outbox.js';

const STEPS = 10_000;
const SEEDS = [1, 2, 3, 4, 5];
const PUBLISH_TIMEOUT = 5_000;
const ACK_TIMEOUT = 20_000;
const WINDOW_BYTES = 4096;
const ACTIONS = [
  ['append', 20],
  ['puback', 22],
  ['lose', 3],
  ['refuse', 4],
  ['publishTimeout', 3],
  ['ack', 12],
  ['forgedAck', 2],
  ['ackTimeout', 3],
  ['advance', 10],
  ['disconnect', 3],
  ['failingClient', 2],
  ['reconnect', 5],
  ['syncNow', 2],
  ['retention', 2],
  ['diskShort', 2],
  ['restart', 1],
] as const;
type Action = (typeof ACTIONS)[number][0];
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const TOTAL = ACTIONS.reduce((n, [, w]) => n + w, 0);
const pick = (r: number): Action => {
  let x = r % TOTAL;
  for (const [a, w] of ACTIONS) {
    if (x < w) return a;
    x -= w;
  }
  return 'advance';
};

/**
 * The delivery model of issue #12, driven at random over a real SQLite outbox
 * with an injected clock and a stand-in broker session (which may lose a batch
 * it PUBACKed, so the collector's contiguous ack stops below it until the
 * drain sends it again): after every step the
 * broker holds no more publishes than the window, no row is in flight twice,
 * an acked row is never published again, and the ledger's in-flight rows are
 * exactly the broker's. At the end every sealed row is acked or covered by an
 * eviction notice.
 */
async function runSeed(seed: number): Promise<void> {
  const root = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(root, 'edge-ledger-model-'));
  const clock = new ManualClock();
  const { sealer, ring } = testSealer('gw-test', clock);
  const rnd = fc.sample(fc.array(fc.nat(), { minLength: STEPS * 3, maxLength: STEPS * 3 }), {
    seed,
    numRuns: 1,
  })[0];
  let ri = 0;
  const r = (n: number) => rnd[ri++ % rnd.length] % n;
  let free = Number.POSITIVE_INFINITY;
  const open = async () => {
    const o = makeOutbox(dir, { clock, sealer, minFreeBytes: 64 * 1024, freeBytes: () => free });
    await o.start();
    return o;
  };
  const acked = new Map<Stream, number>(STREAMS.map((s) => [s, 0]));
  const received = new Map<Stream, Set<number>>(STREAMS.map((s) => [s, new Set()]));
  const evicted: [Stream, number, number][] = [];
  const violations: string[] = [];
  let window = 0;
  const onPublish = (o: Outstanding) => {
    if (o.seq <= acked.get(o.stream)!) violations.push(`acked row ${o.stream}:${o.seq} published again`);
  };
  const intruder = testSigner();
  const makeDrain = (ob: Outbox) =>
    collectorDrain(ob, clock, {
      ackTimeoutMs: ACK_TIMEOUT,
      inflight: 16,
      inflightBytes: WINDOW_BYTES,
      publishTimeoutMs: PUBLISH_TIMEOUT,
    });
  let ob = await open();
  let d = makeDrain(ob);
  let drain = d.drain;
  /** Rows probed by the drains of earlier runs (a restart makes a new one). */
  let probedBefore = 0;
  await drain.start();
  let client: FakeSession | undefined;
  const connect = () => {
    client = new FakeSession(onPublish);
    const receiveMaximum = [4, 10, 65_535][r(3)];
    window = Math.min(16, receiveMaximum);
    drain.attach(client, receiveMaximum);
  };
  const disconnect = () => {
    client?.end();
    drain.detach();
    client = undefined;
  };
  const pubackOne = (id: number) => {
    const o = client!.answer(id, 0);
    if (!o) return;
    received.get(o.stream)!.add(o.seq);
    if (o.stream === Stream.EVENTS) {
      for (const e of verifyEnvelope(o.envelope, ring).batch.events)
        if (e.type === 'buffer.evicted')
          evicted.push([
            STREAMS.find((x) => streamName(x) === e.details.stream)!,
            Number(e.details.from_seq),
            Number(e.details.to_seq),
          ]);
    }
  };
  const covered = (s: Stream, seq: number) =>
    received.get(s)!.has(seq) || evicted.some(([es, f, t]) => es === s && seq >= f && seq <= t);
  /** The collector acks the longest prefix it holds (received or reported evicted). */
  const collectorAck = (s: Stream) => {
    let up = acked.get(s)!;
    while (up < ob.head(s).seq && covered(s, up + 1)) up++;
    if (up <= acked.get(s)!) return;
    acked.set(s, up);
    drain.onAck(signedAck(s, up));
  };
  const signedAck = (s: Stream, upToSeq: number, by = d.collector) => d.sealed(s, upToSeq, ob.epoch, by);
  const check = (step: number, what: string) => {
    const at = `seed ${seed} step ${step} (${what})`;
    assert.deepEqual(violations, [], at);
    if (!client) return;
    const out = Object.values(client.outgoing);
    assert.ok(out.length <= window, `${at}: ${out.length} outstanding above the window ${window}`);
    const keys = new Set(out.map((o) => `${o.stream}:${o.seq}`));
    assert.equal(keys.size, out.length, `${at}: a row in flight twice`);
    assert.equal(drain.ledger.outstanding.messages, out.length, `${at}: ledger and broker disagree`);
    const bytes = out.reduce((b, o) => b + o.envelope.length, 0);
    assert.equal(drain.ledger.outstanding.bytes, bytes, `${at}: ledger and broker disagree on bytes`);
    assert.ok(out.length <= 1 || bytes <= WINDOW_BYTES, `${at}: ${bytes} bytes outstanding above the window`);
    for (const o of out) assert.equal(drain.ledger.state(o.stream, o.seq), 'inflight', at);
  };
  connect();
  let n = 0;
  try {
    for (let step = 0; step < STEPS; step++) {
      const a = pick(r(1_000_000));
      switch (a) {
        case 'append': {
          const s = [Stream.TELEMETRY, Stream.TELEMETRY, Stream.EVENTS, Stream.REPORTS][r(4)];
          const item =
            s === Stream.TELEMETRY
              ? reading(n++, r(3) * 400)
              : s === Stream.EVENTS
                ? event(n++)
                : report(n++);
          await ob.append([{ stream: s, items: [item] }]);
          drain.kick();
          break;
        }
        case 'puback':
        case 'lose':
        case 'refuse': {
          const ids = client?.ids() ?? [];
          if (ids.length === 0) break;
          const id = ids[r(ids.length)];
          if (a === 'puback') pubackOne(id);
          // PUBACKed, then lost before the collector stored it: only a resend (probe or window) gets it there.
          else if (a === 'lose') client!.answer(id, 0);
          else client!.answer(id, r(2) ? 0x80 : 0x97, r(3) === 0 ? new Error('refused') : undefined);
          break;
        }
        case 'publishTimeout':
          clock.advance(PUBLISH_TIMEOUT);
          break;
        case 'ackTimeout':
          clock.advance(ACK_TIMEOUT);
          break;
        case 'advance':
          clock.advance(r(1000));
          break;
        case 'ack':
          collectorAck(STREAMS[r(STREAMS.length)]);
          break;
        case 'forgedAck': {
          // Signed by a key that is no collector's, or past the head: deletes nothing.
          const s = STREAMS[r(STREAMS.length)];
          const floor = ob.floor(s);
          drain.onAck(r(2) ? signedAck(s, ob.head(s).seq, intruder) : signedAck(s, ob.head(s).seq + 1));
          assert.equal(ob.floor(s), floor, `seed ${seed}: a forged ack deleted rows`);
          break;
        }
        case 'disconnect':
          if (client) disconnect();
          break;
        case 'failingClient':
          // The client starts ending: every publish now fails synchronously, and the drain is kicked.
          if (!client) break;
          client.failSync = r(2) === 0;
          if (!client.failSync) client.disconnecting = true;
          {
            const before = client.publishes;
            for (const id of client.ids()) client.answer(id, 0, new Error('client disconnecting'));
            drain.kick();
            clock.advance(100);
            assert.ok(
              client.publishes - before <= 2 * window,
              `seed ${seed}: publishes spin into an ending client`,
            );
          }
          disconnect();
          break;
        case 'reconnect':
          if (!client) connect();
          break;
        case 'syncNow':
          drain.syncNow();
          break;
        case 'retention':
          await ob.expireOlderThan(Stream.TELEMETRY, 30_000);
          drain.kick();
          break;
        case 'diskShort':
          // Short of a few KiB: telemetry goes first. (Evicting events would evict earlier notices too.)
          if (ob.read(Stream.TELEMETRY, ob.floor(Stream.TELEMETRY), 20).length < 20) break;
          free = 60 * 1024;
          await ob.append([{ stream: Stream.TELEMETRY, items: [reading(n++)] }]);
          free = Number.POSITIVE_INFINITY;
          drain.kick();
          break;
        case 'restart': {
          const was = client !== undefined;
          disconnect();
          await drain.stop();
          probedBefore += drain.stats().probes;
          await ob.stop();
          ob = await open();
          d = makeDrain(ob);
          drain = d.drain;
          await drain.start();
          if (was) connect();
          break;
        }
      }
      // The worker answers every request before the invariants are checked (acks delete in the background),
      // and the event loop turns, as in the daemon: the drain yields to it every PUMP_SLICE publishes.
      await ob.idle();
      await turn();
      check(step, a);
    }
    // Then a good link until the outbox is empty.
    if (!client) connect();
    for (let round = 0; round < 5_000 && ob.peek(1).length > 0; round++) {
      for (const id of client!.ids()) pubackOne(id);
      for (const s of STREAMS) collectorAck(s);
      clock.advance(ACK_TIMEOUT / 4);
      await ob.idle();
      await turn();
      check(STEPS + round, 'drain to empty');
    }
    assert.deepEqual(ob.peek(10), [], `seed ${seed}: the outbox drains`);
    for (const s of STREAMS) {
      for (let seq = 1; seq <= ob.head(s).seq; seq++)
        assert.ok(covered(s, seq), `seed ${seed}: ${s}:${seq} neither delivered nor covered by a notice`);
    }
    assert.ok(evicted.length > 0, 'the run evicted something (the notices were exercised)');
    assert.ok(probedBefore + drain.stats().probes > 0, 'the run probed (lost batches were found)');
  } finally {
    await drain.stop();
    await ob.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const seed of SEEDS) {
  it(`delivery model, seed ${seed}: ${STEPS} random steps keep the window, one state per row, no resend after ack`, async () => {
    await runSeed(seed);
  });
}
