// The pg-away tests (#15), one file per case so that the two run side by side (scripts/run-tests.mjs).
// Done means (#15): a PostgreSQL that goes away makes the collector stop acking and reconnect
// (no ack without a commit). The machine's PostgreSQL is shared, so it is never stopped: the
// collector reaches it through a TCP proxy in this test, which either cuts every connection and
// refuses new ones for a while, or keeps them all open and forwards nothing (a server that hangs:
// only the query timeout and keepalive notice it). Every ack seen on the broker is checked
// against the store at once.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { KeyRing, openAck } from '../../agent/src/telemetry/index.js';
import { Store } from '../../platform/src/store/index.js';
import { tempDatabase } from '../../scripts/lib/pg-temp.js';
import { assertComplete, City, stop } from './city.js';
import { PgProxy } from './pg-proxy.js';
import { waitFor } from './wait.js';
import { range } from './world.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The collector's query timeout in the stall case: short, so the test stays short. */
const TIMEOUT_MS = 2000;

export async function awayAndBack(how: 'cut' | 'stall'): Promise<void> {
  const city = new City();
  const db = await tempDatabase('edge_pgaway');
  const target = new URL(db.url);
  const proxy = new PgProxy(target.hostname, Number(target.port || 5432));
  await proxy.start();
  // The test's own view of the store, straight to the server: it sees every COMMIT.
  // Generous limits: on a loaded machine its checks must not be what times out.
  const direct = new Store({ url: db.url, migrate: true, connectTimeoutMs: 30_000, queryTimeoutMs: 60_000 });
  await direct.start();
  let collector: ChildProcess | undefined;
  const watcher = { client: undefined as mqtt.MqttClient | undefined };
  try {
    await city.setup(2);
    collector = await city.collector(
      'c-away',
      proxy.via(db.url),
      how === 'stall' ? ['--query-timeout-ms', String(TIMEOUT_MS)] : [],
    );
    const ring = new KeyRing();
    ring.add('collector', Buffer.from(city.collectorKey.b64, 'base64'));
    const acks: { at: number; check: Promise<string | null> }[] = [];
    const c = city.pki.client('collector');
    const client = await mqtt.connectAsync(city.broker.url, {
      ca: readFileSync(city.pki.caFile),
      cert: readFileSync(c.cert),
      key: readFileSync(c.key),
      clientId: 'ack-watcher',
      rejectUnauthorized: true,
      reconnectPeriod: 0,
    });
    watcher.client = client;
    client.on('message', (_topic, payload) => {
      const { ack } = openAck(payload, ring);
      // Published after COMMIT, so every seq up to it must be in the store already.
      const check = direct.db
        .query<{ n: number }>(
          'SELECT count(*)::int AS n FROM batches WHERE device_id = $1 AND stream = $2 AND epoch = $3 AND seq <= $4',
          [ack.deviceId, ack.stream, ack.epoch, ack.upToSeq],
        )
        .then(([r]) =>
          r.n === ack.upToSeq ? null : `ack ${JSON.stringify(ack)} with ${r.n} batches stored`,
        );
      acks.push({ at: Date.now(), check });
    });
    await client.subscribeAsync('edge/v1/+/ack', { qos: 1 });
    await city.startAgents();

    // Up: the baseline flows.
    for (const i of [0, 1]) city.ingest(i, range(0, 200));
    await waitFor(() => [0, 1].every((i) => city.buffered(i) === 0), 'outboxes to empty (up)', 60_000, 300);
    assert.ok(acks.length > 0, 'acks while PostgreSQL is up');

    // Away: connections cut mid-flight, new ones refused; the agents keep sealing and resending.
    const seqAtDown = [0, 1].map((i) => city.status(i).buffer.streams.map((st) => st.lastSeq));
    if (how === 'cut') proxy.down();
    else proxy.stall();
    const downAt = Date.now();
    for (const i of [0, 1]) city.ingest(i, range(200, 350));
    await sleep(2500);
    for (const i of [0, 1]) city.ingest(i, range(350, 500));
    await sleep(how === 'cut' ? 4000 : 6000);
    if (how === 'stall') {
      // A transaction the silent collector had open holds chain row locks: the server ends it
      // (idle_in_transaction_session_timeout), so other collectors are not blocked behind it.
      const [l] = await direct.db.transaction((tx) =>
        tx.query<{ n: number }>('SELECT count(*)::int AS n FROM (SELECT 1 FROM chains FOR UPDATE NOWAIT) c'),
      );
      assert.ok(l.n > 0, 'every chain row can be locked by another collector');
    }
    assert.equal(collector.exitCode, null, 'the collector process stays up');
    assert.equal(collector.signalCode, null);
    // A transaction committing just as the cut came may still ack; nothing later can.
    const late = acks.filter((a) => a.at > downAt + 1000);
    assert.deepEqual(late.length, 0, 'no ack while PostgreSQL is away');
    for (const i of [0, 1]) {
      // The outbox was empty when it went away: every row sealed since is still held.
      const streams = city.status(i).buffer.streams;
      const held = streams.map((st) => st.pending.rows + st.sent.rows);
      assert.deepEqual(
        held,
        streams.map((st, k) => st.lastSeq - seqAtDown[i][k]),
        `agent ${i} keeps every row sealed while away`,
      );
      const tel = streams.find((st) => st.stream === 'telemetry');
      assert.ok(tel && tel.pending.items + tel.sent.items >= 300, `agent ${i} holds the 300 readings`);
    }
    const log = city.logs.get('c-away') ?? '';
    assert.match(log, /batches not stored, not acked: /, 'a clear error in the log');
    if (how === 'stall') assert.match(log, /not acked: (Query read timeout|timeout exceeded)/);
    assert.doesNotMatch(log, /\n\s+at /, 'no stack trace');

    // Back: the pool reconnects, the agents' resends are stored and acked.
    proxy.up();
    for (const i of [0, 1]) city.ingest(i, range(500, 600));
    await waitFor(() => [0, 1].every((i) => city.buffered(i) === 0), 'outboxes to empty (back)', 45_000, 300);
    assert.ok(
      acks.some((a) => a.at > downAt + 1000),
      'acks again once PostgreSQL is back',
    );
    assert.equal(collector.exitCode, null, 'the same collector process reconnected');
    const bad = (await Promise.all(acks.map((a) => a.check))).filter((x) => x !== null);
    assert.deepEqual(bad, [], 'every ack names committed batches only');
    await assertComplete(city, direct, 600);
  } finally {
    await watcher.client?.endAsync();
    if (collector && collector.exitCode === null && collector.signalCode === null)
      await stop(collector, 'SIGTERM');
    await direct.stop();
    await proxy.stop();
    await city.close();
    await db.drop();
  }
}
