import type { Clock, Service, TimerHandle } from '../core/index.js';
import type { EventReporter } from './reporter.js';

/** One authentication outcome found in a log line. */
export type AuthOutcome =
  | { kind: 'failed'; user: string; from: string; service: string }
  | { kind: 'accepted'; user: string; from: string; method: string; service: string };

const IP = /^[0-9A-Fa-f:.]{2,64}$/;
const safe = (s: string | undefined, max = 64): string => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const t = (s ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return t.length > max ? t.slice(0, max) : t;
};
const addr = (s: string): string => (IP.test(s) ? s : 'invalid');

const FAILED =
  /Failed (?:password|publickey|none|keyboard-interactive\/pam|hostbased) for (invalid user )?(\S*) from (\S+) port \d+/;
const ACCEPTED = /Accepted (\S+) for (\S+) from (\S+) port \d+/;
const LOCAL_FAIL = /FAILED LOGIN \(\d+\) on '([^']{1,64})' FOR '([^']{0,64})'/;
const LOCAL_ROOT = /ROOT LOGIN +on '([^']{1,64})'/;

/** Parses one sshd/login message; anything else is null. Hostile text never throws. */
export function parseAuthMessage(message: string, service = 'sshd'): AuthOutcome | null {
  const msg = message.length > 4096 ? message.slice(0, 4096) : message;
  let m = FAILED.exec(msg);
  if (m) return { kind: 'failed', user: safe(m[2]), from: addr(m[3]), service };
  m = ACCEPTED.exec(msg);
  if (m) return { kind: 'accepted', method: safe(m[1], 32), user: safe(m[2]), from: addr(m[3]), service };
  m = LOCAL_FAIL.exec(msg);
  if (m) return { kind: 'failed', user: safe(m[2]), from: safe(m[1]), service: 'login' };
  m = LOCAL_ROOT.exec(msg);
  if (m) return { kind: 'accepted', method: 'console', user: 'root', from: safe(m[1]), service: 'login' };
  return null;
}

/**
 * One line of `journalctl -o json`: the message (which journald stores as a byte
 * array when it is not valid UTF-8), its time and the program that wrote it.
 */
export function parseJournalLine(
  line: string,
): { message: string; tsMs: number | null; service: string } | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const raw = o.MESSAGE;
  const message =
    typeof raw === 'string'
      ? raw
      : Array.isArray(raw) && raw.length <= 65_536
        ? Buffer.from(raw.filter((b) => Number.isInteger(b)) as number[]).toString('utf8')
        : null;
  if (message === null) return null;
  const us = Number(o.__REALTIME_TIMESTAMP);
  const service = typeof o.SYSLOG_IDENTIFIER === 'string' ? safe(o.SYSLOG_IDENTIFIER, 32) : 'unknown';
  return { message, tsMs: Number.isFinite(us) ? Math.floor(us / 1000) : null, service };
}

export interface AuthMonitorOptions {
  reporter: EventReporter;
  threshold: number;
  windowMs: number;
  technicians: string[];
  clock: Clock;
}

interface Burst {
  count: number;
  firstMs: number;
  lastMs: number;
  users: Set<string>;
  timer: TimerHandle;
}

/**
 * Turns authentication outcomes into events: one `auth.bruteforce` per source
 * and window once failures reach the threshold (with the count, first and last
 * time and the accounts tried), `auth.root_login` and `auth.login` on success.
 */
export class AuthMonitor implements Service {
  readonly name = 'auth-monitor';
  private readonly bursts = new Map<string, Burst>();

  constructor(private readonly opts: AuthMonitorOptions) {}

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    for (const from of [...this.bursts.keys()]) this.close(from);
  }

  observe(o: AuthOutcome, tsMs = this.opts.clock.now()): void {
    if (o.kind === 'accepted') {
      const details = { user: o.user, from: o.from, method: o.method, service: o.service };
      if (o.user === 'root') this.opts.reporter.raise('auth.root_login', o.from, details);
      else if (this.opts.technicians.includes(o.user))
        this.opts.reporter.raise('auth.login', o.user, { ...details, technician: 'true' });
      else this.opts.reporter.raise('auth.login', o.user, details);
      return;
    }
    let b = this.bursts.get(o.from);
    if (!b) {
      b = {
        count: 0,
        firstMs: tsMs,
        lastMs: tsMs,
        users: new Set(),
        timer: this.opts.clock.setTimeout(() => this.close(o.from), this.opts.windowMs),
      };
      this.bursts.set(o.from, b);
    }
    b.count++;
    b.lastMs = tsMs;
    if (b.users.size < 10) b.users.add(o.user);
  }

  private close(from: string): void {
    const b = this.bursts.get(from);
    if (!b) return;
    this.bursts.delete(from);
    this.opts.clock.clearTimeout(b.timer);
    if (b.count < this.opts.threshold) return;
    this.opts.reporter.raiseEvent({
      type: 'auth.bruteforce',
      severity: 4,
      tsMs: b.lastMs,
      subject: from,
      details: {
        from,
        failures: String(b.count),
        users: [...b.users].join(','),
        window_s: String(this.opts.windowMs / 1000),
      },
      count: b.count,
      firstTsMs: b.firstMs,
      lastTsMs: b.lastMs,
    });
  }
}
