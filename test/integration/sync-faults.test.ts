import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../helpers/wait.js';
import { exactlyOnce, range, World } from '../helpers/world.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('nothing is lost when parts die during the drain', () => {
  it('the agent is SIGKILLed during the drain, several times', async () => {
    const w = new World();
    try {
      await w.setup();
      await w.startAgent();
      assert.equal(w.ingest(range(0, 20_000)).code, 0);
      await w.stopAgent('SIGKILL');
      await w.broker.start();
      const collector = await w.startCollector();
      for (let i = 0; i < 4; i++) {
        await w.startAgent();
        await sleep(150 + Math.floor(Math.random() * 400));
        await w.stopAgent('SIGKILL');
      }
      await w.startAgent();
      await waitFor(() => w.bufferedRows() === 0, 'the backlog to drain and be acked');
      const { values } = await w.stored();
      assert.equal(exactlyOnce(values, 20_000), null);
      assert.equal(collector.stats.readings, 20_000, 'each reading stored once');
      assert.equal(collector.stats.conflicts, 0);
    } finally {
      await w.close();
    }
  });

  it('the broker is SIGKILLed during the drain (with what it held) and restarted', async () => {
    const w = new World();
    try {
      await w.setup();
      await w.startAgent();
      assert.equal(w.ingest(range(0, 20_000)).code, 0);
      await w.broker.start();
      await w.startCollector();
      await waitFor(() => (w.collector?.stats.batches ?? 0) > 20, 'the drain to start');
      await w.broker.kill();
      await sleep(300);
      await w.broker.start();
      await waitFor(() => w.bufferedRows() === 0, 'the backlog to drain after the broker came back', 90_000);
      assert.equal(exactlyOnce((await w.stored()).values, 20_000), null);
    } finally {
      await w.close();
    }
  });

  it('no collector is subscribed while the agent drains: nothing waits at the broker, resends deliver', async () => {
    // Collectors start clean (a shared subscription, no session): the broker drops what
    // arrives while none is connected. Only the agent's resends of unacked rows bring it.
    const w = new World();
    try {
      await w.setup();
      await w.broker.start();
      await w.startCollector();
      await w.stopCollector();
      await w.startAgent();
      assert.equal(w.ingest(range(0, 10_000)).code, 0);
      await waitFor(
        () => (w.status().link?.delivery.pubacked ?? 0) >= 100,
        'the broker to PUBACK the backlog',
      );
      assert.ok(w.bufferedRows() > 0, 'PUBACK alone deletes nothing');
      assert.equal((await w.storedBatches()).length, 0, 'nothing reached the store');
      await sleep(500);
      await w.startCollector();
      await waitFor(() => w.bufferedRows() === 0, 'everything to be acked after resends', 90_000);
      assert.equal(exactlyOnce((await w.stored()).values, 10_000), null);
    } finally {
      await w.close();
    }
  });
});
