import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../helpers/wait.js';
import { exactlyOnce, range, World } from '../helpers/world.js';

describe('sync through a real Mosquitto (mTLS, ACL)', () => {
  const w = new World();
  before(async () => {
    await w.setup();
  });
  after(async () => {
    await w.close();
  });

  it('buffers 10,000 readings while the broker is down, then delivers each exactly once and empties the buffer', async () => {
    await w.startAgent();
    const r = w.ingest(range(0, 10_000));
    assert.equal(r.code, 0, r.stderr);

    const down = await waitFor(() => {
      const s = w.status();
      return s.link?.lastError?.code === 'TCP_REFUSED' && s;
    }, 'the outage to show in status');
    assert.notEqual(down.link?.state, 'connected');
    const tel = down.buffer.streams.find((s) => s.stream === 'telemetry');
    assert.equal(tel?.pending.items, 10_000);
    const lastSeq = tel?.lastSeq ?? 0;
    assert.ok(lastSeq >= 100, `10,000 readings in batches of at most 100: ${lastSeq} batches`);

    await w.broker.start();
    const collector = await w.startCollector();
    await waitFor(() => w.bufferedRows() === 0, 'the agent buffer to empty after the acks');
    const up = w.status();
    assert.equal(up.link?.state, 'connected');
    assert.equal(up.link?.lastError, null);
    assert.ok(up.link?.lastAckAt);

    const { values, seqs } = await w.stored();
    assert.equal(exactlyOnce(values, 10_000), null);
    assert.deepEqual(seqs.get(1), range(1, lastSeq + 1), 'telemetry seqs contiguous');
    assert.equal(collector.stats.rejected.BAD_SIGNATURE ?? 0, 0);
    assert.equal(collector.stats.readings, 10_000);
    assert.equal(
      collector.statuses.get('gw-test') && (collector.statuses.get('gw-test') as { state: string }).state,
      'online',
    );
  });
});
