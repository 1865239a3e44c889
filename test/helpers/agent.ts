import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export const BIN = join(repoRoot, 'bin', 'edge-agent.js');

/** Writes a minimal valid config for an agent whose data lives in `dir`. */
export function writeConfig(dir: string, extra: Record<string, unknown> = {}): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'config.json');
  const cfg = {
    device: { id: 'gw-test' },
    storage: { dir: join(dir, 'data') },
    mqtt: { url: 'mqtts://localhost:8883', ca: 'ca.crt', cert: 'gw.crt', key: 'gw.key' },
    batching: { telemetry: { maxItems: 50, maxDelayMs: 50 } },
    log: { level: 'warn' },
    // Health readings at a minute boundary, or the host's own logins and listeners,
    // would change the counts the tests assert; tests that need them turn them on.
    health: { enabled: false },
    monitor: { auth: { source: 'off' }, listeners: { enabled: false } },
    audit: { enabled: false },
    sensors: { enabled: false },
    software: { enabled: false },
    ...extra,
  };
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

/** Runs the CLI to completion. */
export function cli(args: string[], opts: { input?: string; config?: string } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args, ...(opts.config ? ['--config', opts.config] : [])], {
    input: opts.input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Starts the daemon and resolves once its socket answers. `wrap` is a command that
 * execs the daemon's command line given after it (e.g. into a private mount namespace).
 */
export async function startDaemon(
  config: string,
  env: NodeJS.ProcessEnv = {},
  wrap: string[] = [],
): Promise<ChildProcess> {
  const argv = [process.execPath, BIN, 'run', '--config', config];
  const [cmd, ...args] = [...wrap, ...argv];
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`daemon exited: ${err}`);
    if (cli(['status', '--json'], { config }).stdout.includes('"running": true')) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`daemon did not come up: ${err}`);
}

export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}
