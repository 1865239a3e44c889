import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { BIN, exitOf } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import type { World } from '../helpers/world.js';
import { sleep } from './lib.js';

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
 * Streams readings 0, 1, 2, ... from `from` into agent.sock and records which
 * ones the agent answered as accepted (committed); stops when the socket dies.
 */
export class IngestStream {
  readonly accepted: number[] = [];
  next: number;
  private sock: Socket | undefined;
  private closed: Promise<void> = Promise.resolve();

  constructor(
    private readonly socketPath: string,
    from: number,
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
    const pump = () => {
      while (!sock.destroyed && sock.writable) {
        let chunk = '';
        for (let i = 0; i < 50; i++) {
          const v = this.next++;
          sentAt.set(++line, v);
          chunk += `${JSON.stringify({ sensor: 'aq-7', value: v, unit: 'ug/m3', ts: 1_764_150_000_000 + v })}\n`;
        }
        if (!sock.write(chunk)) {
          sock.once('drain', pump);
          return;
        }
      }
    };
    sock.once('connect', pump);
  }

  /** Waits for the socket to close (after the daemon died). */
  async stopped(): Promise<void> {
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

export { sleep };
