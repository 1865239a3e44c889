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
 * and readings accepted after the quarantine are delivered.
 */
describe('the outbox corrupted at run time', () => {
  const w = new World({ deviceId: 'gw-corrupt' });
  const file = join(w.agentDir, 'data', 'outbox.db');
  const events = async () => (await w.collectorBatches([2])).flatMap((b) => b.events);
  const arrive = async (values: number[]) => {
    const r = w.ingest(values, 'probe');
    assert.equal(r.code, 0, r.stderr);
    await waitFor(async () => {
      const got = (await w.stored()).values;
      return values.every((v) => got.includes(v));
    }, `readings ${values[0]}..`);
  };

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
    const between: number[] = [];
    await waitFor(
      () => {
        const v = 100 + between.length;
        if (w.ingest([v], 'probe').code === 0) between.push(v);
        return w.status().epoch !== epoch;
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
    const got = new Set((await w.stored()).values);
    console.log(
      `# accepted between the corruption and its detection: ${between.length}, delivered: ${between.filter((v) => got.has(v)).length}`,
    );
  });
});
