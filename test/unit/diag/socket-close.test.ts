import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock, silentLogger } from '../../../agent/src/core/index.js';
import { CLOSE_GRACE_MS, LocalSocket } from '../../../agent/src/diag/index.js';
import { tempDir } from '../../helpers/paths.js';

const flush = () => new Promise((r) => setTimeout(r, 20));

describe('local socket: the close timer on the injected clock', () => {
  const t = tempDir();
  after(() => t.cleanup());

  it('stop() lets an open connection finish until the grace passes on the clock, then cuts it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26));
    const path = join(t.dir, 'agent.sock');
    const sock = new LocalSocket({
      name: 'agent.sock',
      path,
      mode: 0o660,
      maxLineBytes: 4096,
      readOnly: true,
      commands: { ping: () => ({ pong: true }) },
      clock,
      log: silentLogger(),
    });
    await sock.start();
    // A client that never ends its side: only the cut closes it.
    const client: Socket = connect({ path, allowHalfOpen: true });
    client.on('error', () => undefined);
    client.on('end', () => undefined);
    await new Promise((r) => client.once('connect', r));
    // The answer proves the server holds the connection (a fixed pause did not at high load).
    const answered = new Promise((r) => client.once('data', r));
    client.write('{"cmd":"ping"}\n');
    await answered;
    let stopped = false;
    const stopping = sock.stop().then(() => {
      stopped = true;
    });
    await flush();
    assert.equal(stopped, false, 'waits for the connection while the grace lasts');
    clock.advance(CLOSE_GRACE_MS - 1);
    await flush();
    assert.equal(stopped, false, 'not a millisecond early');
    clock.advance(1);
    // The server's close completes only once its last connection is gone: the cut came from the clock.
    await stopping;
    assert.equal(stopped, true);
    client.destroy();
  });
});
