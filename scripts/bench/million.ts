import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from '../../agent/src/diag/index.js';
import { loadSigningKey } from '../../agent/src/identity/index.js';
import { Collector } from '../../platform/src/collector/index.js';
import { Store } from '../../platform/src/store/index.js';
import { devTrust } from '../lib/dev-trust.js';
import { tempDatabase } from '../lib/pg-temp.js';
import { bufferedRows, type DaemonStatus, rssMb } from './daemon.js';
import { type BrokerAccess, prefill } from './drain.js';
import { benchSealer } from './ingest.js';

const peakRssMb = (pid: number) => rssMb(pid, 'VmHWM');
const quantileMs = (xs: number[], q: number) =>
  xs.length === 0
    ? null
    : Math.round([...xs].sort((a, b) => a - b)[Math.ceil(q * xs.length) - 1 || 0] * 10) / 10;

/**
 * The real daemon draining a million buffered readings to the platform
 * collector: time until the collector has acked them all, and the daemon's peak RSS.
 */
export async function benchMillion(
  dir: string,
  broker: BrokerAccess,
  bin: string,
  readings: number,
  batch: number,
  log: (s: string) => void,
) {
  const agentDir = join(dir, 'agent');
  const config = join(dir, 'million.json');
  // The daemon deletes rows only for acks signed by a collector key the root's keys document names.
  const trust = devTrust(join(dir, 'trust'));
  writeFileSync(
    config,
    JSON.stringify({
      device: { id: 'million-gw' },
      storage: { dir: agentDir, maxBytes: 4 * 1024 ** 3, minFreeBytes: 0 },
      mqtt: {
        url: broker.url,
        ca: broker.ca,
        cert: join(agentDir, 'tls.crt'),
        key: join(agentDir, 'tls.key'),
      },
      health: { enabled: false },
      trust: { rootKey: trust.rootKey },
      log: { level: 'warn' },
    }),
  );
  execFileSync(process.execPath, [bin, 'identity', 'init', '--config', config]);
  broker.pki.signCsr(readFileSync(join(agentDir, 'identity', 'tls.csr'), 'utf8'), join(agentDir, 'tls.crt'));
  const key = loadSigningKey(join(agentDir, 'identity', 'signing.key'));
  const batches = Math.ceil(readings / batch);
  log(`  prefilling ${readings} readings (${batches} batches)...`);
  await prefill(
    join(agentDir, 'outbox.db'),
    benchSealer('million-gw', key.privateKey, key.keyId),
    batches,
    batch,
    (d) => {
      if (d % 2000 === 0) log(`  prefilled ${d}/${batches} batches`);
    },
  );
  // The platform collector on the machine's PostgreSQL, as a city runs it.
  const database = await tempDatabase('edge_bench_million');
  const store = new Store({ url: database.url });
  await store.start();
  await store.addDevices([
    { deviceId: 'million-gw', signingPublicKey: Buffer.from(key.publicKey).toString('base64') },
  ]);
  const col = broker.pki.client('collector');
  const collector = new Collector({
    url: broker.url,
    ca: readFileSync(broker.ca),
    cert: readFileSync(col.cert),
    key: readFileSync(col.key),
    store,
    shareGroup: '',
    clientId: 'collector-million',
    ackKey: trust.collectorKey,
    keysDocument: trust.keysDocument,
  });
  await collector.start();
  // The technician's commands with a million readings buffered: daemon stopped, then running.
  const timeStatus = () => {
    const t = performance.now();
    execFileSync(process.execPath, [bin, 'status', '--json', '--config', config], { stdio: 'ignore' });
    return Math.round(performance.now() - t);
  };
  const statusStoppedMs = timeStatus();
  // Node's own start-up, which every CLI call pays before it asks the daemon anything.
  const t = performance.now();
  execFileSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const nodeStartupMs = Math.round(performance.now() - t);
  let statusRunningMs = Number.NaN;
  let statusSocketMs = Number.NaN;
  /** Socket status latencies, timed by a process of its own, once a PUBACK was seen and while rows are buffered. */
  const draining: number[] = [];
  const t0 = performance.now();
  // Spawned through its shebang, with the V8 flags a user gets.
  const daemon = spawn(bin, ['run', '--config', config], { stdio: 'ignore' });
  let peak = 0;
  /** RssAnon at its highest of the 250 ms samples (the kernel keeps no high-water mark of it). */
  let peakAnon = 0;
  const sock = join(agentDir, 'agent.sock');
  const statusProbe = spawn(process.execPath, [
    fileURLToPath(new URL('./status-probe.js', import.meta.url)),
    sock,
  ]);
  createInterface({ input: statusProbe.stdout }).on('line', (l) => {
    const p = JSON.parse(l) as { ms: number; rows: number; pubacked: number };
    if (p.rows > 0 && p.pubacked > 0) draining.push(p.ms);
  });
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    peak = Math.max(peak, peakRssMb(daemon.pid ?? 0));
    peakAnon = Math.max(peakAnon, rssMb(daemon.pid ?? 0, 'RssAnon') || 0);
    let rows = Number.NaN;
    try {
      const ts = performance.now();
      const st = (await request(sock, 'status', {}, 30_000)) as DaemonStatus;
      // The first answer comes with (nearly) all the million still buffered.
      if (Number.isNaN(statusSocketMs)) statusSocketMs = Math.round(performance.now() - ts);
      rows = bufferedRows(st);
    } catch {
      // not up yet
    }
    if (Number.isNaN(statusRunningMs) && rows > batches / 2) statusRunningMs = timeStatus();
    if (rows === 0 && collector.stats.readings >= readings) break;
    if (Math.round(performance.now() - t0) % 5000 < 250)
      log(`  draining: collector has ${collector.stats.readings} readings, agent holds ${rows} batches`);
  }
  const seconds = (performance.now() - t0) / 1000;
  peak = Math.max(peak, peakRssMb(daemon.pid ?? 0));
  statusProbe.kill();
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  await collector.stop();
  await store.stop();
  await database.drop();
  return {
    rss_peak_mb: peak,
    rss_peak_anon_mb: peakAnon,
    drain_1m_s: Math.round(seconds * 10) / 10,
    million_readings_verified: collector.stats.readings,
    status_cmd_ms_stopped_1m: statusStoppedMs,
    status_cmd_ms_running_1m: statusRunningMs,
    status_socket_ms_1m: statusSocketMs,
    status_socket_ms_draining_p50: quantileMs(draining, 0.5),
    status_socket_ms_draining_max: quantileMs(draining, 1),
    status_socket_draining_samples: draining.length,
    node_startup_ms: nodeStartupMs,
  };
}
