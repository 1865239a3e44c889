import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from '../../agent/src/diag/index.js';
import type { BrokerAccess } from './drain.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const agentBin = join(repoRoot, 'bin', 'edge-agent.js');
const probe = new URL('./loop-probe.js', import.meta.url).href;

/** Resident (VmRSS) or peak resident (VmHWM) set of a process, in MB. */
/**
 * From /proc/<pid>/status. RssAnon is the process's own memory; the rest of VmRSS is
 * mostly the node binary's code paged in (file-backed, shared, reclaimable: about 31 MB
 * for a bare `node -e`, 49 MB in a daemon that has drained).
 */
export function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon' = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
}

/**
 * The variables and node flags of a script's `#!/usr/bin/env -S VAR=x node --flag` line,
 * so a daemon started with `--import` runs as the shebang runs it.
 */
export function shebangOf(script: string): { vars: Record<string, string>; flags: string[] } {
  const words = (readFileSync(script, 'utf8').split('\n', 1)[0] ?? '').split(/\s+/);
  const node = words.indexOf('node');
  const vars: Record<string, string> = {};
  for (const w of words.slice(0, Math.max(node, 0))) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(w);
    if (m) vars[m[1]] = m[2];
  }
  return { vars, flags: node < 0 ? [] : words.slice(node + 1).filter((w) => w !== '') };
}

/** Bytes the process has caused to be sent to the block layer (`/proc/<pid>/io` write_bytes). */
export function writeBytes(pid: number): number {
  const m = /write_bytes:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

/** Where `../shared/tools/slowfs` sits next to the clone; null when absent (a user's clone). */
export function slowfsDir(): string | null {
  const d = join(repoRoot, '..', 'shared', 'tools', 'slowfs');
  return existsSync(join(d, 'build')) ? d : null;
}

/** Builds libslowfs.so into `dir`, or says why it cannot. */
export function buildSlowfs(dir: string): { lib: string } | { skipped: string } {
  const src = slowfsDir();
  if (!src) return { skipped: 'skipped: slowfs not found' };
  const lib = join(dir, 'libslowfs.so');
  try {
    execFileSync('sh', [join(src, 'build'), lib], { stdio: 'ignore' });
    return { lib };
  } catch (e) {
    return { skipped: `skipped: slowfs did not build (${(e as Error).message.split('\n')[0]})` };
  }
}

export interface BenchDaemonOptions {
  dir: string;
  id: string;
  broker: BrokerAccess;
  /** Overrides the broker's URL (a throttling proxy in front of it). */
  url?: string;
  /** Every fsync of the daemon waits this long (needs `slowfsLib`). */
  fsyncMs?: number;
  slowfsLib?: string;
  config?: Record<string, unknown>;
}

/**
 * The real daemon, spawned as a user runs it, measured from outside only:
 * its sockets, `/proc`, and an event-loop probe loaded with `--import` (so the
 * figures hold whatever runs where inside it).
 */
export class BenchDaemon {
  readonly config: string;
  readonly sock: string;
  private child: ChildProcess | undefined;
  private readonly loopFile: string;
  private marks = 0;

  constructor(private readonly o: BenchDaemonOptions) {
    this.config = join(o.dir, 'config.json');
    this.sock = join(o.dir, 'data', 'agent.sock');
    this.loopFile = join(o.dir, 'loop.json');
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  /** Writes the config and the device identity (key, CSR signed by the test CA). */
  init(): void {
    const data = join(this.o.dir, 'data');
    writeFileSync(
      this.config,
      JSON.stringify({
        device: { id: this.o.id },
        storage: { dir: data, maxBytes: 4 * 1024 ** 3, minFreeBytes: 0 },
        mqtt: {
          url: this.o.url ?? this.o.broker.url,
          ca: this.o.broker.ca,
          cert: join(data, 'tls.crt'),
          key: join(data, 'tls.key'),
        },
        health: { enabled: false },
        monitor: { auth: { source: 'off' }, listeners: { enabled: false } },
        audit: { enabled: false },
        sensors: { enabled: false },
        software: { enabled: false },
        log: { level: 'warn', file: join(this.o.dir, 'agent.log') },
        ...this.o.config,
      }),
    );
    execFileSync(process.execPath, [agentBin, 'identity', 'init', '--config', this.config]);
    this.o.broker.pki.signCsr(readFileSync(join(data, 'identity', 'tls.csr'), 'utf8'), join(data, 'tls.crt'));
  }

  /** Starts it with the environment and V8 flags of bin/edge-agent.js's shebang, and waits for agent.sock to answer. */
  async start(): Promise<void> {
    const env: NodeJS.ProcessEnv = { ...process.env, EDGE_BENCH_LOOP_FILE: this.loopFile };
    if (this.o.fsyncMs && this.o.slowfsLib) {
      env.LD_PRELOAD = this.o.slowfsLib;
      env.SLOWFS_MS = String(this.o.fsyncMs);
    }
    const { vars, flags } = shebangOf(agentBin);
    Object.assign(env, vars);
    const args = [...flags, '--import', probe, agentBin, 'run', '--config', this.config];
    this.child = spawn(process.execPath, args, { stdio: 'ignore', env });
    for (let i = 0; i < 600; i++) {
      if (this.child.exitCode !== null) throw new Error(`the daemon exited with ${this.child.exitCode}`);
      if (await this.status().catch(() => null)) return;
      await sleep(100);
    }
    throw new Error('the daemon did not answer on agent.sock within 60 s');
  }

  status(): Promise<DaemonStatus> {
    return request(this.sock, 'status', {}, 30_000) as Promise<DaemonStatus>;
  }

  /** Event-loop delay since the last mark, in ms (the probe resets at each mark). */
  async loopMark(): Promise<{ p99: number; max: number }> {
    const before = existsSync(this.loopFile) ? statSync(this.loopFile).mtimeMs : 0;
    const want = ++this.marks;
    this.child?.kill('SIGUSR2');
    for (let i = 0; i < 200; i++) {
      if (existsSync(this.loopFile) && statSync(this.loopFile).mtimeMs >= before) {
        const r = JSON.parse(readFileSync(this.loopFile, 'utf8')) as { n: number; p99: number; max: number };
        if (r.n === want) return { p99: r.p99, max: r.max };
      }
      await sleep(25);
    }
    throw new Error('the event-loop probe did not answer');
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(t);
  }
}

/** The parts of `status` the bench reads (all optional: the daemon's shape may grow). */
export interface DaemonStatus {
  buffer?: { streams: { pending: { rows: number }; sent: { rows: number } }[] };
  link?: { delivery?: { inflight: number; window: number; pubacked: number } } | null;
}

export const bufferedRows = (s: DaemonStatus): number =>
  (s.buffer?.streams ?? []).reduce((n, x) => n + x.pending.rows + x.sent.rows, 0);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
