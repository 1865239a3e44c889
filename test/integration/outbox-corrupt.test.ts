import assert from 'node:assert/strict';
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../helpers/wait.js';
import { World } from '../helpers/world.js';

/**
 * The outbox file corrupted while the daemon runs (issue #13), through real
 * Mosquitto and the platform collector: the outbox worker quarantines it and
 * starts a new epoch as at start, `buffer.quarantined` reaches the collector,
 * readings accepted after the quarantine are delivered. Of the old file, what
 * still reads (those accepted between the corruption and its detection, in its
 * WAL) is salvaged and delivered in its old epoch, acked by the collector and
 * gone from the agent; exactly the rest is reported there by exact range.
 */
describe('the outbox corrupted at run time', () => {
  const w = new World({ deviceId: 'gw-corrupt' });
  const file = join(w.agentDir, 'data', 'outbox.db');
  const events = () => w.collectorEvents();
  const arrive = (values: number[]) => w.readingsArrive(values);

  before(async () => {
    await w.setup();
    await w.broker.start();
    await w.startCollector();
  });
  after(() => w.close());

  it('is quarantined with a new epoch, the alert reaches the collector, readings flow again', async () => {
    await w.startAgent();
    await arrive([1, 2, 3]);
    // Rows the collector does not take yet, then a clean stop: the WAL is checkpointed, so the
    // next run reads those rows from the database file.
    await w.stopCollector();
    for (let i = 0; i < 4; i++) {
      const r = w.ingest(
        Array.from({ length: 500 }, (_, k) => 1000 + i * 500 + k),
        'probe',
      );
      assert.equal(r.code, 0, r.stderr);
    }
    await w.stopAgent();
    const d = await w.startAgent();
    const epoch = w.status().epoch;

    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(statSync(file).size, 0x5a));
    closeSync(fd);
    const telemetrySeq = (st: ReturnType<typeof w.status>) =>
      st.buffer.streams.find((s) => s.stream === 'telemetry')?.lastSeq ?? 0;
    const between: number[] = [];
    /** The last telemetry seq the old epoch was seen to have committed: every accepted batch of it is at or below. */
    let oldHead = telemetrySeq(w.status());
    await waitFor(
      () => {
        const v = 100 + between.length;
        if (w.ingest([v], 'probe').code === 0) between.push(v);
        const st = w.status();
        if (st.epoch === epoch) oldHead = Math.max(oldHead, telemetrySeq(st));
        return st.epoch !== epoch;
      },
      'a new epoch after the corruption',
      60_000,
      250,
    );
    assert.equal(d.exitCode, null, 'the daemon is up');
    const fresh = w.status().epoch;
    await w.startCollector();
    const ev = await waitFor(
      async () =>
        (await events()).find((e) => e.type === 'buffer.quarantined' && e.details.epoch === String(fresh)),
      'buffer.quarantined at the collector',
    );
    assert.match(ev.details.file, /outbox\.db\.quarantined-\d+$/);
    await arrive([200, 201, 202]);
    // What could not be read of the old epoch is reported at the collector, by range.
    const lost = await waitFor(async () => {
      const found = (await events()).filter(
        (e) =>
          e.type === 'buffer.evicted' &&
          e.details.epoch === String(epoch) &&
          e.details.stream === 'telemetry',
      );
      return found.length > 0 ? found : undefined;
    }, 'the old epoch reported at the collector');
    assert.deepEqual(
      lost.map((e) => e.details.reason),
      lost.map(() => 'corrupt'),
    );
    const reported = (seq: number) =>
      lost.some((e) => Number(e.details.from_seq) <= seq && seq <= Number(e.details.to_seq));
    const top = Math.max(oldHead, ...lost.map((e) => Number(e.details.to_seq)));
    // Each telemetry seq of the old epoch up to its last commit: salvaged and delivered, or in a reported range.
    const kept = await waitFor(async () => {
      const seqs = new Set(
        (await w.storedBatches()).filter((b) => b.stream === 1 && b.epoch === epoch).map((b) => b.seq),
      );
      const missing = Array.from({ length: top }, (_, i) => i + 1).filter(
        (q) => !seqs.has(q) && !reported(q),
      );
      return missing.length === 0 ? seqs : undefined;
    }, `old epoch seqs 1..${top} each delivered or reported`);
    // Exactly the unreadable: no range covers a seq the collector has.
    assert.deepEqual([...kept].filter(reported), [], 'seqs both delivered and reported lost');
    const got = await waitFor(async () => {
      const values = new Set((await w.stored()).values);
      return between.every((v) => values.has(v)) ? values : undefined;
    }, 'readings accepted after the corruption at the collector');
    const oldValues = (await w.collectorBatches([1]))
      .filter((b) => b.epoch === epoch)
      .flatMap((b) => b.readings.map((r) => r.value.value as number));
    const salvagedAfter = between.filter((v) => oldValues.includes(v));
    // The collector's acks of the old epoch delete the salvaged rows (a signed ack of an epoch still held).
    await waitFor(
      () => (w.status().buffer.salvaged?.rows === 0 ? true : undefined),
      'the salvaged rows acked',
    );
    console.log(
      `# accepted between the corruption and its detection: ${between.length}, all delivered to the ${got.size} values stored (${salvagedAfter.length} of them salvaged in the old epoch); old epoch ${epoch}: ${kept.size} seqs salvaged and delivered, reported lost: ${lost.map((e) => `${e.details.from_seq}..${e.details.to_seq}`)}`,
    );
  });
});
