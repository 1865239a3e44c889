import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  AgentError,
  type Clock,
  LineSplitter,
  type Logger,
  type Service,
  type StreamItem,
} from '../core/index.js';
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
  /**
   * Every command here only reads (agent.sock): answers come from a cache
   * refreshed at most every READ_CACHE_MIN_MS, so a client repeating `status`
   * costs a lookup, not a table scan per line. Handlers get no arguments.
   */
  readOnly?: boolean;
  /** Stamps ingest lines (wall), ages the read cache and times the close (monotonic). */
  clock: Clock;
  log: Logger;
}

/** Connections one socket serves at once; more are answered "busy" and closed. */
export const MAX_CONNECTIONS = 64;
/** Lines of one connection being worked on (or whose reply waits its turn) before reading from it stops. */
export const MAX_LINES_IN_FLIGHT = 512;
/** Reply bytes a client has not read yet before no new line of it is started (and reading from it stops). */
export const MAX_UNSENT_REPLY_BYTES = 64 * 1024;
/** How long a refused connection may stay open to read its "busy" answer. */
export const REFUSED_LINGER_MS = 1000;
/** How long stop() lets open connections finish before they are cut. */
export const CLOSE_GRACE_MS = 2000;
/** A read-only answer is reused while younger than this, whatever happened since. */
export const READ_CACHE_MIN_MS = 100;
/** ... and while younger than this when no ingest line has committed since. */
export const READ_CACHE_MAX_MS = 1000;

/** What a socket holds right now, for `status` and the tests of its bounds. */
export interface SocketStats {
  connections: number;
  refused: number;
  /** Connections not being read from (their replies are unread or their lines are in flight). */
  paused: number;
  /** Largest number of lines in work or waiting for their turn to reply, over the connections. */
  maxLinesInFlight: number;
  /** Largest number of lines read but not started, over the connections (at most one read chunk's worth). */
  maxBacklogLines: number;
  /** Largest count of reply bytes written but not yet taken by a client, over the connections. */
  maxUnsentReplyBytes: number;
}

interface Conn {
  socket: Socket;
  /** Lines read but not started; bounded by one read chunk, since reading stops while any wait. */
  backlog: (string | null)[];
  head: number;
  inFlight: number;
  lineNo: number;
  ended: boolean;
  paused: boolean;
  tail: Promise<void>;
}

/**
 * A local NDJSON socket: each input line gets exactly one reply line, in
 * order, sent once the line's work is done (for ingest: after its commit).
 * Each connection is bounded: at most MAX_LINES_IN_FLIGHT lines in work and
 * MAX_UNSENT_REPLY_BYTES of unread replies, past which it is no longer read
 * (the kernel then blocks the writer), so a client that floods or never reads
 * holds a fixed amount of memory and leaves the event loop to the others.
 */
export class LocalSocket implements Service {
  readonly name: string;
  private server: Server | undefined;
  private readonly conns = new Set<Conn>();
  private refused = 0;
  /** Refused connections, until their close: stop() must not wait for them. */
  private readonly lingering = new Set<Socket>();
  private readonly cache = new Map<string, { at: number; gen: number; value: unknown }>();
  /** Bumped by each committed ingest line: a cached answer older than that is refreshed sooner. */
  private generation = 0;

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
    const server = createServer({ allowHalfOpen: true }, (s) => this.accept(s));
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
    for (const c of this.conns) c.socket.end();
    const cut = this.opts.clock.setTimeout(() => {
      for (const c of this.conns) c.socket.destroy();
      for (const l of this.lingering) l.destroy();
    }, CLOSE_GRACE_MS);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.opts.clock.clearTimeout(cut);
  }

  stats(): SocketStats {
    let paused = 0;
    let maxLinesInFlight = 0;
    let maxBacklogLines = 0;
    let maxUnsentReplyBytes = 0;
    for (const c of this.conns) {
      if (c.paused) paused++;
      maxLinesInFlight = Math.max(maxLinesInFlight, c.inFlight);
      maxBacklogLines = Math.max(maxBacklogLines, c.backlog.length - c.head);
      maxUnsentReplyBytes = Math.max(maxUnsentReplyBytes, c.socket.writableLength);
    }
    return {
      connections: this.conns.size,
      refused: this.refused,
      paused,
      maxLinesInFlight,
      maxBacklogLines,
      maxUnsentReplyBytes,
    };
  }

  private accept(socket: Socket): void {
    socket.on('error', (err) => this.opts.log.debug({ err }, 'local client went away'));
    if (this.conns.size >= MAX_CONNECTIONS) {
      this.refused++;
      // Read and discard what it sends (so its close is seen), answer, and let it go.
      this.lingering.add(socket);
      const linger = this.opts.clock.setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
      socket.on('close', () => {
        this.lingering.delete(socket);
        this.opts.clock.clearTimeout(linger);
      });
      socket.resume();
      socket.end(
        `${JSON.stringify({ line: 0, ok: false, error: `busy: ${MAX_CONNECTIONS} connections already open on ${this.name}` })}\n`,
      );
      return;
    }
    const c: Conn = {
      socket,
      backlog: [],
      head: 0,
      inFlight: 0,
      lineNo: 0,
      ended: false,
      paused: false,
      tail: Promise.resolve(),
    };
    this.conns.add(c);
    // null stands for a line that was too long: it still gets its reply, in order.
    const splitter = new LineSplitter(
      this.opts.maxLineBytes,
      (line) => c.backlog.push(line),
      () => c.backlog.push(null),
    );
    socket.on('data', (d: Buffer) => {
      splitter.push(d);
      this.pump(c);
    });
    socket.on('drain', () => this.pump(c));
    socket.on('end', () => {
      splitter.end();
      c.ended = true;
      this.pump(c);
    });
    socket.on('close', () => this.conns.delete(c));
  }

  /** Starts what the bounds allow, then reads on or stops reading. */
  private pump(c: Conn): void {
    const full = () => c.inFlight >= MAX_LINES_IN_FLIGHT || c.socket.writableLength >= MAX_UNSENT_REPLY_BYTES;
    while (c.head < c.backlog.length && !full()) {
      const line = c.backlog[c.head++] as string | null;
      this.begin(c, line);
    }
    if (c.head === c.backlog.length) {
      c.backlog = [];
      c.head = 0;
    }
    const hold = c.head < c.backlog.length || full();
    if (hold && !c.paused) c.socket.pause();
    else if (!hold && c.paused && !c.ended) c.socket.resume();
    c.paused = hold;
    if (c.ended && !hold && c.inFlight === 0) c.socket.end();
  }

  private begin(c: Conn, line: string | null): void {
    const n = ++c.lineNo;
    c.inFlight++;
    const work =
      line === null
        ? Promise.resolve({ ok: false, error: `(line): longer than ${this.opts.maxLineBytes} bytes` })
        : this.handle(line);
    c.tail = c.tail
      .then(() => work)
      .then((r) => {
        c.inFlight--;
        if (!c.socket.destroyed) c.socket.write(`${JSON.stringify({ line: n, ...r })}\n`);
        this.pump(c);
      });
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
    const parsed = parseIngestLine(line, this.opts.clock.now());
    if (!parsed.ok) return { ok: false, error: parsed.error };
    try {
      await this.opts.ingest(parsed.item);
      this.generation++;
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
      return { ok: true, result: this.opts.readOnly ? await this.cached(name, handler) : await handler(msg) };
    } catch (e) {
      this.opts.log.warn({ err: e, cmd: name }, 'local command failed');
      return { ok: false, error: (e as Error).message };
    }
  }

  private async cached(name: string, handler: CommandHandler): Promise<unknown> {
    const now = this.opts.clock.monotonic();
    const hit = this.cache.get(name);
    if (hit) {
      const age = now - hit.at;
      if (age < READ_CACHE_MIN_MS || (age < READ_CACHE_MAX_MS && hit.gen === this.generation))
        return hit.value;
    }
    const gen = this.generation;
    const value = await handler({});
    this.cache.set(name, { at: now, gen, value });
    return value;
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
