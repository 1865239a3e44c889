import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Clock, Every, type Service } from '../core/index.js';
import type { EventReporter } from './reporter.js';

/** A listening socket from /proc/net. */
export interface Listener {
  proto: 'tcp' | 'udp';
  address: string;
  port: number;
}

function ipv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
}

function ipv6(hex: string): string {
  const words: string[] = [];
  for (let i = 0; i < 32; i += 8) {
    const w =
      hex
        .slice(i, i + 8)
        .match(/../g)
        ?.reverse()
        .join('') ?? '00000000';
    words.push(w.slice(0, 4), w.slice(4));
  }
  return words.map((w) => w.replace(/^0+(?=.)/, '').toLowerCase()).join(':');
}

/** Reads listening TCP sockets and bound UDP sockets from `/proc/net/{tcp,tcp6,udp,udp6}` under `root`. */
export function readListeners(
  root: string,
  read: (gatewayPath: string) => string = (p) => readFileSync(join(root, p), 'utf8'),
): { listeners: Listener[]; unreadable: string[] } {
  const listeners: Listener[] = [];
  const unreadable: string[] = [];
  for (const [file, proto, state] of [
    ['tcp', 'tcp', '0A'],
    ['tcp6', 'tcp', '0A'],
    ['udp', 'udp', '07'],
    ['udp6', 'udp', '07'],
  ] as const) {
    let text: string;
    try {
      text = read(`/proc/net/${file}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') unreadable.push(file);
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4 || f[3] !== state) continue;
      const [addrHex, portHex] = f[1].split(':');
      if (!addrHex || !portHex) continue;
      const address = addrHex.length === 8 ? ipv4(addrHex) : ipv6(addrHex);
      listeners.push({ proto, address, port: Number.parseInt(portHex, 16) });
    }
  }
  return { listeners, unreadable };
}

const isLoopback = (a: string) => a.startsWith('127.') || a === '0:0:0:0:0:0:0:1';

/**
 * Raises `net.new_listener` for a listening socket whose `proto/port` is not in
 * the allowlist, once while it exists. Loopback-only listeners are not exposed
 * to the cabinet network and are left out.
 */
export class ListenerMonitor implements Service {
  readonly name = 'listener-monitor';
  private readonly timer: Every;
  private known = new Set<string>();

  constructor(
    private readonly opts: {
      root: string;
      allow: string[];
      intervalMs: number;
      reporter: EventReporter;
      clock: Clock;
    },
  ) {
    this.timer = new Every(opts.clock, opts.intervalMs, () => this.check());
  }

  async start(): Promise<void> {
    this.check();
    this.timer.start();
  }

  async stop(): Promise<void> {
    this.timer.stop();
  }

  /** One pass; returns the listeners it reported now. */
  check(): Listener[] {
    const { listeners } = readListeners(this.opts.root);
    const now = new Set<string>();
    const reported: Listener[] = [];
    for (const l of listeners) {
      if (isLoopback(l.address) || this.opts.allow.includes(`${l.proto}/${l.port}`)) continue;
      const key = `${l.proto}/${l.port}@${l.address}`;
      now.add(key);
      if (this.known.has(key)) continue;
      reported.push(l);
      this.opts.reporter.raise('net.new_listener', `${l.proto}/${l.port}`, {
        proto: l.proto,
        port: String(l.port),
        address: l.address,
      });
    }
    this.known = now;
    return reported;
  }
}
