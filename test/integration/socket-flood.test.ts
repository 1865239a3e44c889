import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  MAX_CONNECTIONS,
  MAX_LINES_IN_FLIGHT,
  MAX_UNSENT_REPLY_BYTES,
  request,
  type SocketStats,
} from '../../agent/src/diag/index.js';
import { cli, exitOf, startDaemon, writeConfig } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

/** The one bound the issue states: another sensor's reading is accepted within this. */
const ACCEPT_WITHIN_MS = 1000;
/** A status reply with its socket figures stays well under this. */
const STATUS_REPLY_MAX = 8 * 1024;

const rssMb = (pid: number): number =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

/** Sends one line on a fresh connection; the first reply line, or a rejection after `ms`. */
function oneLine(path: string, line: string, ms: number): Promise<{ ok: boolean; error?: string }> {
  return new Promise((resolve, reject) => {
    const c = connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`no reply within ${ms} ms`));
    }, ms);
    c.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      clearTimeout(timer);
      c.destroy();
      resolve(JSON.parse(buf.slice(0, nl)));
    });
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    c.write(`${line}\n`);
  });
}

describe('agent.sock against a hostile local client', () => {
  const t = tempDir();
  let config: string;
  let daemon: ChildProcess;
  let sock: string;
  before(async () => {
    config = writeConfig(t.dir);
    assert.equal(cli(['identity', 'init'], { config }).code, 0);
    daemon = await startDaemon(config);
    sock = join(t.dir, 'data', 'agent.sock');
  });
  after(async () => {
    daemon.kill('SIGTERM');
    await exitOf(daemon);
    t.cleanup();
  });
  const socketStats = async () =>
    ((await request(sock, 'status')) as { socket: SocketStats; accepted: number }).socket;

  it('20,000 unread status lines and a flood of ingest: memory stays bounded, another sensor is accepted within 1 s', async () => {
    const rss0 = rssMb(daemon.pid as number);
    // A asks for status 20,000 times and never reads a reply.
    const a = connect(sock);
    a.write('{"cmd":"status"}\n'.repeat(20_000));
    // B pushes readings as fast as the agent takes them and never reads a reply either.
    const b = connect(sock);
    const chunk = `${JSON.stringify({ sensor: 'flood-1', value: 1 })}\n`.repeat(1000);
    let flooding = true;
    let sentByB = 0;
    const push = () => {
      while (flooding && b.write(chunk)) sentByB += 1000;
    };
    b.on('connect', push);
    b.on('drain', push);
    const clients: Socket[] = [a, b];
    try {
      // Both stop being read: their replies pile up at their end of the socket, not in the agent.
      await waitFor(async () => (await socketStats()).paused >= 2, 'both hostile clients paused', 30_000);
      for (let i = 0; i < 20; i++) {
        const r = await oneLine(
          sock,
          JSON.stringify({ sensor: 'aq-7', value: i, unit: 'ug/m3' }),
          ACCEPT_WITHIN_MS,
        );
        assert.deepEqual(r.ok, true, `reading ${i} of another sensor: ${r.error}`);
      }
      const s = await socketStats();
      assert.ok(s.paused >= 2, `still paused: ${JSON.stringify(s)}`);
      assert.ok(s.maxLinesInFlight <= MAX_LINES_IN_FLIGHT, JSON.stringify(s));
      assert.ok(
        s.maxUnsentReplyBytes <= MAX_UNSENT_REPLY_BYTES + MAX_LINES_IN_FLIGHT * STATUS_REPLY_MAX,
        JSON.stringify(s),
      );
      const grown = rssMb(daemon.pid as number) - rss0;
      assert.ok(grown < 96, `daemon RSS grew by ${grown.toFixed(0)} MB`);
      assert.ok(sentByB > 0);
    } finally {
      flooding = false;
      for (const c of clients) c.destroy();
    }
    await waitFor(async () => (await socketStats()).connections === 1, 'the hostile connections gone');
  });

  it(`serves at most ${MAX_CONNECTIONS} connections at once: the next is told "busy", the open ones keep working`, async () => {
    const held: Socket[] = [];
    try {
      for (let i = 0; i < MAX_CONNECTIONS; i++) {
        const c = connect(sock);
        await new Promise((r) => c.once('connect', r));
        held.push(c);
      }
      await waitFor(async () => {
        const r = await oneLine(sock, '{"cmd":"ping"}', 5000);
        return (
          r.ok === false &&
          (r.error ?? '').startsWith(`busy: ${MAX_CONNECTIONS} connections already open on agent.sock`) &&
          r
        );
      }, 'a refusal');
      // An open connection still answers.
      const c = held[0] as Socket;
      const reply = new Promise<string>((r) => c.once('data', (d) => r(String(d))));
      c.write(`${JSON.stringify({ sensor: 'aq-7', value: 1 })}\n`);
      assert.match(await reply, /"ok":true/);
    } finally {
      for (const c of held) c.destroy();
    }
    await waitFor(
      async () => (await oneLine(sock, '{"cmd":"ping"}', 5000)).ok,
      'served again once they close',
    );
  });
});
