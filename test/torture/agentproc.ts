import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { request } from '../../agent/src/diag/index.js';
import { BIN, exitOf } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import type { StatusJson, World } from '../helpers/world.js';
import { addDefect, type Ctx, type RowResult, sleep } from './lib.js';

/** How long a daemon may take to open its socket on a loaded 2-core machine before it counts as a hang. */
export const START_BOUND_MS = 60_000;

/**
 * The daemon of `w`, started without the status polling of the test helper (a
 * kill cycle must be short): resolves once agent.sock accepts a connection.
 */
export async function spawnDaemon(w: World, env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'run', '--config', w.config], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let err = '';
  child.stderr?.on('data', (d) => {
    err = (err + d).slice(-4000);
  });
  const sock = join(w.agentDir, 'data', 'agent.sock');
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`the daemon exited with ${child.exitCode}: ${err}`);
      return canConnect(sock);
    },
    'the daemon to open agent.sock',
    START_BOUND_MS,
    25,
  );
  return child;
}

/**
 * Rows left in the running daemon's outbox (pending + awaiting ack), asked over agent.sock
 * from this process. `World.bufferedRows` runs the CLI with spawnSync: each poll stalled
 * the in-process collector for a whole Node start, so on a loaded machine the agent's
 * ack timeouts fired and it republished its window again and again (R3).
 */
export async function outboxRows(w: World): Promise<number> {
  const s = (await request(join(w.agentDir, 'data', 'agent.sock'), 'status', {}, 30_000)) as StatusJson;
  return s.buffer.streams.reduce((n, x) => n + x.pending.rows + x.sent.rows, 0);
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/**
 * Streams readings 0, 1, 2, ... from `from` into agent.sock (as fast as it
 * reads, or `ratePerS` a second) and records which ones the agent answered as
 * accepted (committed); stops when the socket dies.
 */
export class IngestStream {
  readonly accepted: number[] = [];
  next: number;
  private sock: Socket | undefined;
  private closed: Promise<void> = Promise.resolve();
  private pacer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socketPath: string,
    from: number,
    private readonly ratePerS?: number,
  ) {
    this.next = from;
  }

  start(): void {
    const sock = connect(this.socketPath);
    this.sock = sock;
    const sentAt = new Map<number, number>();
    let line = 0;
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        const a = JSON.parse(l) as { line: number; ok: boolean };
        if (a.ok) this.accepted.push(sentAt.get(a.line)!);
        sentAt.delete(a.line);
      }
    });
    this.closed = new Promise((resolve) => sock.once('close', () => resolve()));
    sock.on('error', () => undefined);
    const lines = (n: number) => {
      let chunk = '';
      for (let i = 0; i < n; i++) {
        const v = this.next++;
        sentAt.set(++line, v);
        chunk += `${JSON.stringify({ sensor: 'aq-7', value: v, unit: 'ug/m3', ts: 1_764_150_000_000 + v })}\n`;
      }
      return chunk;
    };
    const pump = () => {
      while (!sock.destroyed && sock.writable) {
        if (!sock.write(lines(50))) {
          sock.once('drain', pump);
          return;
        }
      }
    };
    const rate = this.ratePerS;
    if (rate === undefined) sock.once('connect', pump);
    else this.pacer = setInterval(() => sock.writable && sock.write(lines(Math.ceil(rate / 10))), 100);
  }

  /** Stops sending (a paced stream) and gives the agent `ms` to answer what it has. */
  async pause(ms: number): Promise<void> {
    clearInterval(this.pacer);
    await sleep(ms);
  }

  /** Waits for the socket to close (after the daemon died). */
  async stopped(): Promise<void> {
    clearInterval(this.pacer);
    this.sock?.destroy();
    await this.closed;
  }
}

/** SIGKILLs `child` and waits for it; returns false when it had already exited by itself. */
export async function kill9(child: ChildProcess): Promise<{ wasRunning: boolean; code: number | null }> {
  const wasRunning = child.exitCode === null && child.signalCode === null;
  child.kill('SIGKILL');
  const e = await exitOf(child);
  return { wasRunning, code: e.code };
}

/**
 * After a row's last kill or cut: the daemon starts cleanly and drains; every
 * reading it had answered as accepted must be at the collector exactly once.
 * Counts lost and duplicated readings into `r`; returns how many were stored.
 */
export async function drainAndJudge(
  w: World,
  r: RowResult,
  ctx: Ctx,
  accepted: number[],
  after: string,
  boundMs: number,
): Promise<number> {
  ctx.log(
    `${accepted.length.toLocaleString('en-US')} readings accepted across ${r.cases} ${after}s; draining`,
  );
  await w.startAgent();
  try {
    await waitFor(
      async () => (await outboxRows(w)) === 0,
      `the outbox to empty after the last ${after}`,
      boundMs,
      500,
    );
  } catch (e) {
    r.crashes++;
    addDefect(r, `hang: ${(e as Error).message}`);
  }
  const stored = new Map<number, number>();
  for (const v of (await w.stored()).values) stored.set(v, (stored.get(v) ?? 0) + 1);
  for (const v of accepted) if (!stored.has(v)) r.lost++;
  for (const [v, n] of stored)
    if (n > 1) {
      r.duplicates += n - 1;
      addDefect(r, `reading ${v} stored ${n} times`);
    }
  if (r.lost > 0) addDefect(r, `${r.lost} accepted readings never reached the collector (seed ${ctx.seed})`);
  if ((w.collector?.stats.conflicts ?? 0) > 0)
    addDefect(r, 'the collector saw a seq reused with another payload (a seq handed out twice)');
  if (accepted.length === 0) addDefect(r, 'no reading was accepted: the row proved nothing');
  return stored.size;
}

export { sleep };
