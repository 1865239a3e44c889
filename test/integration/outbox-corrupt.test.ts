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
 * readings accepted after the quarantine are delivered, and every batch the old
 * file took with it (those accepted between the corruption and its detection
 * included) is either at the collector or reported there by exact range.
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
    // Each telemetry seq of the old epoch up to its last commit: stored at the collector, or in a reported range.
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
    const kept = new Set(
      (await w.storedBatches()).filter((b) => b.stream === 1 && b.epoch === epoch).map((b) => b.seq),
    );
    const reported = (seq: number) =>
      lost.some((e) => Number(e.details.from_seq) <= seq && seq <= Number(e.details.to_seq));
    const missing = Array.from({ length: oldHead }, (_, i) => i + 1).filter(
      (q) => !kept.has(q) && !reported(q),
    );
    assert.deepEqual(missing, [], `old epoch seqs neither delivered nor reported (head ${oldHead})`);
    assert.ok(
      lost.every((e) => Number(e.details.to_seq) >= oldHead && !kept.has(Number(e.details.from_seq))),
      'the ranges start past what was delivered and reach the last commit',
    );
    const got = new Set((await w.stored()).values);
    console.log(
      `# accepted between the corruption and its detection: ${between.length}, delivered: ${between.filter((v) => got.has(v)).length}, reported lost: seqs ${lost.map((e) => `${e.details.from_seq}..${e.details.to_seq}`)} of epoch ${epoch}`,
    );
  });
});
