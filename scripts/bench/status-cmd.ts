#!/usr/bin/env node
// `edge-agent status --json` with a million readings buffered, alone: the million bench's
// `timeStatus` (README "Benchmark") without its broker, collector and drain, so a change to
// the command can be timed before and after in the same minutes (#12). The running figure
// is taken against an idle daemon (its broker unreachable), not a draining one.
//
//   node dist/scripts/bench/status-cmd.js [--readings N] [--runs N] [--keep DIR] [BIN...]
//
// Each BIN (default: this tree's bin/edge-agent.js) is timed in turn, round after round, and
// `node -e ''` with them: medians and the spread, one JSON object.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from '../../agent/src/diag/index.js';
import { loadSigningKey } from '../../agent/src/identity/index.js';
import { agentBin, sleep } from './daemon.js';
import { prefill } from './drain.js';
import { benchSealer } from './ingest.js';

const { values: o, positionals } = parseArgs({
  options: {
    readings: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '100' },
    runs: { type: 'string', default: '15' },
    keep: { type: 'string' },
  },
  allowPositionals: true,
});
const bins = positionals.length > 0 ? positionals : [agentBin];
const dir = o.keep ?? mkdtempSync(join(tmpdir(), 'edge-status-'));
mkdirSync(dir, { recursive: true });
const config = join(dir, 'config.json');
const data = join(dir, 'data');

if (!existsSync(config)) {
  writeFileSync(
    config,
    JSON.stringify({
      device: { id: 'status-gw' },
      storage: { dir: data, maxBytes: 4 * 1024 ** 3, minFreeBytes: 0 },
      // Nothing listens there: the daemon keeps every reading buffered and sits idle.
      mqtt: { url: 'mqtts://127.0.0.1:9', ca: 'ca.crt', cert: 'gw.crt', key: 'gw.key' },
      health: { enabled: false },
      monitor: { auth: { source: 'off' }, listeners: { enabled: false } },
      audit: { enabled: false },
      sensors: { enabled: false },
      software: { enabled: false },
      log: { level: 'warn', file: join(dir, 'agent.log') },
    }),
  );
  execFileSync(process.execPath, [agentBin, 'identity', 'init', '--config', config]);
  const key = loadSigningKey(join(data, 'identity', 'signing.key'));
  const batch = Number(o.batch);
  await prefill(
    join(data, 'outbox.db'),
    benchSealer('status-gw', key.privateKey, key.keyId),
    Math.ceil(Number(o.readings) / batch),
    batch,
  );
}

/**
 * CPU time (user + system, ms) of the children waited for so far, from /proc (Linux; null
 * elsewhere). On a shared machine the wall time grows with the load; the CPU time much less.
 */
const childCpuMs = (): number | null => {
  try {
    // Fields after the command name: cutime and cstime are the 14th and 15th, in clock ticks (100/s).
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(f[13]) + Number(f[14])) * 10;
  } catch {
    return null;
  }
};
const timed = (args: string[]) => {
  const c = childCpuMs();
  const t = performance.now();
  execFileSync(process.execPath, args, { stdio: 'ignore' });
  const wall = performance.now() - t;
  const c2 = childCpuMs();
  return { wall, cpu: c === null || c2 === null ? null : c2 - c };
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)]);
};
const rounds = (label: string) => {
  const ms: Record<string, { wall: number; cpu: number | null }[]> = { node_e: [] };
  for (const b of bins) ms[b] = [];
  for (let i = 0; i < Number(o.runs); i++) {
    ms.node_e.push(timed(['-e', '']));
    for (const b of bins) ms[b].push(timed([b, 'status', '--json', '--config', config]));
  }
  return Object.fromEntries(
    Object.entries(ms).map(([k, v]) => {
      const wall = v.map((r) => r.wall);
      const cpu = v.every((r) => r.cpu !== null) ? v.map((r) => r.cpu as number) : null;
      return [
        `${label}:${k}`,
        {
          median: median(wall),
          min: Math.round(Math.min(...wall)),
          max: Math.round(Math.max(...wall)),
          // Ticks of 10 ms each run: the mean over the runs is the finer figure.
          cpu_mean: cpu && Math.round(cpu.reduce((a, b) => a + b, 0) / cpu.length),
        },
      ];
    }),
  );
};

const stopped = rounds('stopped');
const daemon = spawn(process.execPath, [agentBin, 'run', '--config', config], { stdio: 'ignore' });
try {
  for (let i = 0; ; i++) {
    if (await request(join(data, 'agent.sock'), 'status', {}, 5_000).catch(() => null)) break;
    if (i > 600 || daemon.exitCode !== null) throw new Error('the daemon did not answer within 60 s');
    await sleep(100);
  }
  const running = rounds('running');
  process.stdout.write(`${JSON.stringify({ dir, ...stopped, ...running }, null, 2)}\n`);
} finally {
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  if (!o.keep) rmSync(dir, { recursive: true, force: true });
}
