import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { type Clock, Every, LineSplitter, type Logger, type Service } from '../core/index.js';

const MAX_LINE = 64 * 1024;

/** Follows the systemd journal (auth facilities) as JSON lines; absent journalctl is a warning, not a failure. */
export class JournalSource implements Service {
  readonly name = 'journal';
  private child: ChildProcess | undefined;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly log: Logger,
    private readonly command = 'journalctl',
  ) {}

  async start(): Promise<void> {
    const splitter = new LineSplitter(MAX_LINE, this.onLine, () =>
      this.log.debug('over-long journal line skipped'),
    );
    const child = spawn(
      this.command,
      ['-f', '-o', 'json', '-n', '0', 'SYSLOG_FACILITY=4', '+', 'SYSLOG_FACILITY=10'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    child.on('error', (err) => this.log.warn({ err }, 'cannot follow the journal: login monitoring is off'));
    child.stdout?.on('data', (d: Buffer) => splitter.push(d));
    this.child = child;
  }

  async stop(): Promise<void> {
    this.child?.kill();
    this.child = undefined;
  }
}

/**
 * Follows a log file by polling its size (rotation starts it over). Reads only
 * what was appended, in bounded chunks, and starts at the end unless told otherwise.
 */
export class FileTail implements Service {
  readonly name = 'file-tail';
  private pos = -1;
  private ino = -1;
  private readonly timer: Every;
  private readonly splitter: LineSplitter;

  constructor(
    private readonly file: string,
    onLine: (line: string) => void,
    private readonly log: Logger,
    clock: Clock,
    private readonly opts: { fromStart?: boolean; fromByte?: number; intervalMs?: number } = {},
  ) {
    this.splitter = new LineSplitter(MAX_LINE, onLine, () => log.debug('over-long log line skipped'));
    this.timer = new Every(clock, opts.intervalMs ?? 1000, () => this.poll());
  }

  async start(): Promise<void> {
    const st = this.stat();
    this.pos = this.opts.fromStart ? 0 : (this.opts.fromByte ?? st?.size ?? -1);
    this.ino = st?.ino ?? -1;
    this.timer.start();
  }

  async stop(): Promise<void> {
    this.timer.stop();
  }

  /** Reads whatever was appended since the last poll. */
  poll(): void {
    const st = this.stat();
    if (!st) return;
    const size = st.size;
    // Rotated (a new file under the name) or truncated: the new content starts at 0.
    if (st.ino !== this.ino || size < this.pos) this.pos = 0;
    this.ino = st.ino;
    if (size === this.pos) return;
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch (err) {
      this.log.warn({ err, file: this.file }, 'cannot read the log');
      return;
    }
    try {
      const buf = Buffer.alloc(256 * 1024);
      while (this.pos < size) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, size - this.pos), this.pos);
        if (n <= 0) break;
        // A copy: the splitter may keep a partial line while buf is reused.
        this.splitter.push(Buffer.from(buf.subarray(0, n)));
        this.pos += n;
      }
    } finally {
      closeSync(fd);
    }
  }

  private stat(): { size: number; ino: number } | null {
    try {
      return statSync(this.file);
    } catch {
      return null;
    }
  }
}
