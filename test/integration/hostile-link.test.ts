import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlakyLink } from '../../scripts/lib/flaky-link.js';
import { slowFsyncEnv } from '../helpers/slow-fsync.js';
import { waitFor } from '../helpers/wait.js';
import { exactlyOnce, range, World } from '../helpers/world.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a slow SD card behind a slow, flaky cellular link', () => {
  it('a session stays up while PUBACKs flow, though the PINGRESP queues behind more than half a keepalive of publishes', async () => {
    // Found by a hostile review: mqtt.js (reschedulePings off) wanted the PINGRESP within
    // keepalive/2 of its PINGREQ whatever else came back, so a window longer than that on the
    // link dropped the session at every keepalive: the window resent, a TLS handshake, again.
    const w = new World();
    let link: FlakyLink | undefined;
    try {
      await w.setup();
      link = new FlakyLink(w.broker.port, 8_000);
      await w.broker.start();
      await w.startCollector();
      await link.start();
      w.writeAgentConfig(
        {
          batching: { telemetry: { maxItems: 10, maxDelayMs: 50 } },
          // A window of 60 batches (~30 KB) is ~4 s on the link: more than half the keepalive.
          sync: { ackTimeoutMs: 600_000, publishTimeoutMs: 600_000, connectTimeoutMs: 30_000, inflight: 60 },
        },
        { url: `mqtts://localhost:${link.port}`, keepaliveS: 5 },
      );
      await w.startAgent();
      assert.equal(w.ingest(range(0, 1500)).code, 0);
      await waitFor(() => w.bufferedRows() === 0, 'the backlog to drain', 120_000, 500);
      const d = w.status().link?.delivery as unknown as Record<string, number>;
      assert.equal(link.counts.connections, 1, `one session: ${JSON.stringify(d)}`);
      assert.equal(d.failed, 0, 'no publish abandoned');
      assert.equal(exactlyOnce((await w.stored()).values, 1500), null);
    } finally {
      await link?.stop();
      await w.close();
    }
  });

  it('freezes, cuts, refusals and a broker restart mid-drain lose nothing and never overfill the window', async () => {
    const w = new World();
    let link: FlakyLink | undefined;
    try {
      await w.setup();
      link = new FlakyLink(w.broker.port, 8_000);
      await w.broker.start();
      await w.startCollector();
      await link.start();
      w.writeAgentConfig(
        {
          batching: { telemetry: { maxItems: 10, maxDelayMs: 50 } },
          sync: {
            backoffMinMs: 100,
            backoffMaxMs: 400,
            ackTimeoutMs: 2000,
            connectTimeoutMs: 30_000,
            publishTimeoutMs: 10_000,
            inflight: 20,
          },
        },
        { url: `mqtts://localhost:${link.port}`, keepaliveS: 5 },
      );
      // An SD card's fsync: 40 ms each.
      await w.startAgent(slowFsyncEnv(w.t.dir, 40));
      assert.equal(w.ingest(range(0, 3000)).code, 0);
      let maxOut = 0;
      const sample = () => {
        const s = w.status() as unknown as {
          link: { delivery: { inflight: number; window: number } } | null;
        };
        maxOut = Math.max(maxOut, s.link?.delivery.inflight ?? 0);
        return s;
      };
      await waitFor(() => (w.status().link?.delivery.pubacked ?? 0) > 5, 'the drain to start');
      link.frozen = true; // packets vanish: no FIN, no RST
      for (let i = 0; i < 8; i++) {
        sample();
        await sleep(1000);
      }
      assert.equal(w.ingest(range(3000, 3500)).code, 0, 'ingest while the link is frozen');
      link.up();
      link.cut();
      await sleep(1500);
      link.down();
      await sleep(2000);
      link.up();
      await waitFor(() => (w.status().link?.state ?? '') === 'connected', 'a session again', 30_000);
      await w.broker.kill();
      await sleep(500);
      await w.broker.start();
      assert.equal(w.ingest(range(3500, 4000)).code, 0);
      link.bytesPerS = 1_000_000;
      await waitFor(
        () => {
          sample();
          return w.bufferedRows() === 0;
        },
        'the backlog to drain',
        120_000,
      );
      assert.ok(w.daemon && w.daemon.exitCode === null, 'the daemon is alive');
      assert.ok(maxOut <= 20, `outstanding ${maxOut} within the window of 20`);
      assert.equal(exactlyOnce((await w.stored()).values, 4000), null);
    } finally {
      await link?.stop();
      await w.close();
    }
  });
});
