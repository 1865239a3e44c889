import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { ManualClock, Stream, silentLogger } from '../../../agent/src/core/index.js';
import { LocalSocket, request } from '../../../agent/src/diag/index.js';
import { Drain, type DrainStats, Topics } from '../../../agent/src/sync/index.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

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
