import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { AgentError, ExitCode, LineSplitter } from '../core/index.js';
import { configFrom, parse, UsageError } from './args.js';
import { type Io, outputClosed, println } from './io.js';

export const LOGS_HELP = `Usage: edge-agent logs [-f] [-n N] [--file FILE] [--config FILE] [--json]

The agent's recent log, one readable line per entry (time, level, module,
message, fields). From log.file when the config sets one (or --file), otherwise
from the systemd journal (unit edge-agent). -f follows new lines until Ctrl-C
(a rotated log file is picked up from its start); -n sets how many lines
(default 100); --json prints the raw JSON lines.`;

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'module', 'msg', 'v']);

/** One pino JSON line as a terminal line; anything else is shown as it is, control characters escaped. */
export function formatLogLine(line: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line);
  } catch {
    return escapeControls(line);
  }
  if (typeof o !== 'object' || o === null) return escapeControls(line);
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString() : '-';
  const level = (LEVELS[Number(o.level)] ?? String(o.level)).padEnd(5);
  const mod = o.module ? `[${String(o.module)}] ` : '';
  const fields = Object.entries(o)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => {
      if (k === 'err' && v && typeof v === 'object')
        return `err=${JSON.stringify((v as { message?: string }).message ?? v)}`;
      return `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
    })
    .join(' ');
  return escapeControls(`${time} ${level} ${mod}${String(o.msg ?? '')}${fields ? `  ${fields}` : ''}`);
}

/** Control characters from hostile log content would drive the terminal: shown as \\xNN instead. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;
const escapeControls = (s: string) =>
  s.replace(CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

export async function logsCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {
    follow: { type: 'boolean', short: 'f' },
    lines: { type: 'string', short: 'n' },
    file: { type: 'string' },
  });
  if (values.help) {
    println(io.stdout, LOGS_HELP);
    return ExitCode.Ok;
  }
  const n = values.lines === undefined ? 100 : Number(values.lines);
  if (!Number.isInteger(n) || n < 1) throw new UsageError('-n must be a positive whole number');
  const file = values.file ?? configFrom(values.config, io.env).log.file;
  const out = (line: string) => println(io.stdout, values.json ? line : formatLogLine(line));
  if (file) {
    if (!existsSync(file)) throw new UsageError(`${file}: no such log file`);
    const raw = readFileSync(file);
    const lines = raw.toString('utf8').split('\n').filter(Boolean);
    for (const l of lines.slice(-n)) out(l);
    if (!values.follow) return ExitCode.Ok;
    const { FileTail } = await import('../monitor/index.js');
    const { silentLogger, systemClock } = await import('../core/index.js');
    // Follow from the last byte shown, so a line written while the tail starts is not skipped.
    const tail = new FileTail(file, out, silentLogger(), systemClock, {
      intervalMs: 500,
      fromByte: raw.length,
    });
    await tail.start();
    // The tail's timer is unref'd so that it never holds the daemon open; here following is
    // the whole job, so the loop is held open until Ctrl-C, SIGTERM or the reader going away.
    const hold = setInterval(() => undefined, 60_000);
    await untilStopped(io);
    clearInterval(hold);
    await tail.stop();
    return ExitCode.Ok;
  }
  return new Promise((resolve, reject) => {
    const j = spawn(
      'journalctl',
      [
        '-u',
        'edge-agent.service',
        '-o',
        'cat',
        '--no-pager',
        '-n',
        String(n),
        ...(values.follow ? ['-f'] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const split = new LineSplitter(1 << 20, out, () => undefined);
    j.stdout.on('data', (d: Buffer) => split.push(d));
    void untilStopped(io).then(() => j.kill());
    j.on('error', () =>
      reject(new LogsError('journalctl is not available; set log.file in the config or pass --file')),
    );
    let err = '';
    j.stderr.on('data', (d: Buffer) => {
      if (err.length < 4096) err += d;
    });
    j.on('close', (code) => {
      split.end();
      if (code === 0 || code === null) resolve(ExitCode.Ok);
      else reject(new LogsError(`journalctl failed: ${err.trim().split('\n')[0] || `exit ${code}`}`));
    });
  });
}

/** `logs` could not read any log. */
export class LogsError extends AgentError {
  constructor(message: string) {
    super('LOGS_UNAVAILABLE', message);
  }
}

/** Following ends on Ctrl-C, SIGTERM, or when nobody reads stdout any more (`logs -f | head`). */
function untilStopped(io: Io): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    void outputClosed(io.stdout).then(done);
  });
}
