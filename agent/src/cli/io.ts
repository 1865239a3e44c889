import type { Readable, Writable } from 'node:stream';
import { quietStdio } from '../core/stdio.js';
import { shown } from '../core/terminal.js';

/** The streams and environment a command talks to; tests pass their own. */
export interface Io {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal (progress and layout only then). */
  isTty: boolean;
}

/**
 * Output streams whose reader went away. process.stdout never reads as destroyed (Node keeps
 * its stdio open), and its 'close' may come while a command is still importing its modules,
 * before anyone waits for it: so it is watched from the start.
 */
const readerGone = new WeakSet<Writable>();

export function processIo(): Io {
  quietStdio();
  const mark = () => readerGone.add(process.stdout);
  process.stdout.once('close', mark).once('error', mark);
  return {
    // On first use only: process.stdin builds its stream (a ReadStream, a TTY or a pipe
    // socket) when read, which most commands never do (#12: part of `status`'s start-up).
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    isTty: Boolean(process.stdout.isTTY),
  };
}

/** Resolves when nobody reads `w` any more (the pipe's reader exited). */
export function outputClosed(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (w.destroyed || readerGone.has(w)) return resolve();
    w.once('close', () => resolve());
    w.once('error', () => resolve());
  });
}

export const println = (w: Writable, s = ''): void => {
  w.write(`${s}\n`);
};

/** A human-readable byte count. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const u = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${u[i]}`;
}

/** Renders rows as aligned columns. */
export function table(head: string[], rows: string[][]): string {
  // Cells often hold names from disk or from devices: never raw control characters on a terminal.
  rows = rows.map((r) => r.map((c) => shown(c)));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

/**
 * JSON for a terminal: exact once parsed, but DEL, C1 controls and bidi
 * overrides (which JSON.stringify leaves raw, and a terminal may act on) are
 * written as \u escapes. They can only occur inside strings, where that is legal.
 */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
