import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { AgentError, LineSplitter, type Logger, type Service, type StreamItem } from '../core/index.js';
import { parseIngestLine } from './ingest.js';

/** A command the socket answers: `{"cmd": name, ...args}` → result. */
export type CommandHandler = (args: Record<string, unknown>) => unknown | Promise<unknown>;

export interface LocalSocketOptions {
  name: string;
  path: string;
  /** File mode of the socket: 0660 for agent.sock, 0600 for admin.sock. */
  mode: number;
  maxLineBytes: number;
  /** Accepts ingest lines when set (agent.sock); resolves once committed. */
  ingest?: (item: StreamItem) => Promise<void>;
  commands: Record<string, CommandHandler>;
  now: () => number;
  log: Logger;
}

/** Lines a connection may have in flight before it is paused (backpressure). */
const HIGH_WATER = 4096;

/**
 * A local NDJSON socket: each input line gets exactly one reply line, in
 * order, sent once the line's work is done (for ingest: after its commit).
 */
export class LocalSocket implements Service {
  readonly name: string;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly opts: LocalSocketOptions) {
    this.name = opts.name;
  }

  async start(): Promise<void> {
    const { path } = this.opts;
    if (existsSync(path)) {
      if (await isAlive(path))
        throw new AgentError(
          'SOCKET_IN_USE',
          `${path} is in use: is another agent running with this data dir?`,
        );
      unlinkSync(path); // stale, left by a crash
    }
    const server = createServer({ allowHalfOpen: true }, (s) => this.serve(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, this.opts.mode);
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.end();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      setTimeout(() => {
        for (const s of this.sockets) s.destroy();
      }, 2000).unref();
    });
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    let lineNo = 0;
    let inFlight = 0;
    let tail: Promise<void> = Promise.resolve();
    const reply = (work: Promise<Record<string, unknown>>): void => {
      const n = ++lineNo;
      inFlight++;
      if (inFlight >= HIGH_WATER) socket.pause();
      tail = tail
        .then(() => work)
        .then((r) => {
          inFlight--;
          if (inFlight < HIGH_WATER / 2) socket.resume();
          if (!socket.destroyed) socket.write(`${JSON.stringify({ line: n, ...r })}\n`);
        });
    };
    const splitter = new LineSplitter(
      this.opts.maxLineBytes,
      (line) => reply(this.handle(line)),
      () =>
        reply(Promise.resolve({ ok: false, error: `(line): longer than ${this.opts.maxLineBytes} bytes` })),
    );
    socket.on('data', (d: Buffer) => splitter.push(d));
    socket.on('end', () => {
      splitter.end();
      void tail.then(() => socket.end());
    });
    socket.on('error', (err) => this.opts.log.debug({ err }, 'local client went away'));
    socket.on('close', () => this.sockets.delete(socket));
  }

  private async handle(line: string): Promise<Record<string, unknown>> {
    if (line.includes('"cmd"')) {
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        msg = undefined;
      }
      if (typeof msg === 'object' && msg !== null && 'cmd' in msg)
        return this.command(msg as Record<string, unknown>);
    }
    if (!this.opts.ingest) return { ok: false, error: '(line): this socket takes commands only' };
    const parsed = parseIngestLine(line, this.opts.now());
    if (!parsed.ok) return { ok: false, error: parsed.error };
    try {
      await this.opts.ingest(parsed.item);
      return { ok: true };
    } catch (e) {
      return { ok: false, error: `not accepted: ${(e as Error).message}` };
    }
  }

  private async command(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    const name = String(msg.cmd);
    const handler = Object.hasOwn(this.opts.commands, name) ? this.opts.commands[name] : undefined;
    if (!handler) return { ok: false, error: `cmd: unknown command ${JSON.stringify(name.slice(0, 40))}` };
    try {
      return { ok: true, result: await handler(msg) };
    } catch (e) {
      this.opts.log.warn({ err: e, cmd: name }, 'local command failed');
      return { ok: false, error: (e as Error).message };
    }
  }
}

function isAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}
