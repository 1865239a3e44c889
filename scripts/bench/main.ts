#!/usr/bin/env node
// npm run bench: the agent's figures next to the raw libraries', measured in one run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initIdentity, loadSigningKey } from '../../agent/src/identity/index.js';
import { TestBroker } from '../lib/mosquitto.js';
import { TestPki } from '../lib/test-pki.js';
import { benchConsoleCity } from './console.js';
import { benchDrain } from './drain.js';
import { benchGateway, DEFAULT_PLAN } from './gateway.js';
import { benchIngest, benchSealer } from './ingest.js';
import { benchIntegrity } from './integrity.js';
import { benchMillion } from './million.js';
import { benchRawPipeline } from './pipeline.js';
import { benchPlatform } from './platform.js';
import { benchSign } from './sign.js';
import { benchSoftware } from './software.js';
import { benchThrottled } from './throttle.js';

const { values: o } = parseArgs({
  options: {
    json: { type: 'boolean' },
    readings: { type: 'string', default: '200000' },
    million: { type: 'string', default: '1000000' },
    'integrity-mb': { type: 'string', default: '1024' },
    'platform-devices': { type: 'string', default: '50' },
    'platform-collectors': { type: 'string', default: '1,2,3' },
    'console-gateways': { type: 'string', default: '1000' },
    'cpu-prof': { type: 'string' },
    batch: { type: 'string', default: '100' },
    window: { type: 'string', default: '100' },
    'no-gateway': { type: 'boolean' },
    'link-bps': { type: 'string', default: '2048' },
    'link-s': { type: 'string', default: '60' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (o.help) {
  console.log(`Usage: npm run bench [-- --json] [--readings N] [--million N] [--batch N] [--window N]

Measures, on loopback with a Mosquitto it starts itself over mTLS:
  ingest (batcher + seal + commit) vs raw better-sqlite3 inserts of the same bytes;
  drain (the agent's sync) vs a bare mqtt.js QoS 1 publisher with the same window;
  Ed25519 signatures/s (crypto and tweetnacl); the daemon draining a million buffered
  readings to the platform collector on PostgreSQL (time, peak RSS); hashing a tree for the integrity
  baseline (default 1024 MB) against sha256sum, with RSS growth and event-loop delay.
  the platform: batches stored per second by 1, 2 and 3 edge-platform collectors on the
  machine's PostgreSQL (a database of its own), each of --platform-devices simulated devices
  (default 50) publishing 40 sealed batches of 50 readings over its own mTLS connection,
  against a bare pg loop inserting the same rows with the same transaction size.
  the gateway's conditions, on the real daemon measured from outside (agent.sock, status,
  /proc/<pid>): event-loop p99 while sensors send 1,000 readings/s with fsync as is and
  delayed by 30 ms (../shared/tools/slowfs; "skipped: slowfs not found" without it), the
  highest sustained ingest at fsync +30 ms, bytes written to disk per byte accepted, idle
  and peak RSS; the daemon draining through a --link-bps (default 2048) B/s TCP proxy for
  --link-s (default 60) s: publishes outstanding (never above the window) and RSS.
  raw_pipeline_readings_per_s: a hand-written loop doing the agent's ingest work (encode,
  sign, insert, same transaction size and pragmas); ingest_vs_raw_pipeline is the agent's
  ratio against it. --million also times status (socket and CLI) with a million buffered.
  the console: API latency (fleet list, gateway page, telemetry; p50/p99) with
  --console-gateways registered gateways (default 1000) and 1,000 readings each seeded by
  bulk SQL, and the time from a sealed event published over mTLS to an SSE client.
  --million 0, --integrity-mb 0, --platform-devices 0, --console-gateways 0 and --no-gateway
  skip those parts.
  --platform-collectors LIST  which collector counts to run (default 1,2,3)
  --cpu-prof DIR              the first collector of each platform run writes a V8 CPU
                              profile (node --cpu-prof) to DIR`);
  process.exit(0);
}
const log = (s: string) => {
  if (!o.json) process.stderr.write(`${s}\n`);
};
const readings = Number(o.readings);
const batch = Number(o.batch);
const dir = mkdtempSync(join(tmpdir(), 'edge-bench-'));
const pki = new TestPki(join(dir, 'pki'));
const broker = new TestBroker(dir, pki, { maxQueued: 1_000_000 });
try {
  const paths = {
    signingKey: join(dir, 'id', 'signing.key'),
    tlsKey: join(dir, 'id', 'tls.key'),
    csr: join(dir, 'id', 'tls.csr'),
  };
  await initIdentity(paths, 'bench-gw');
  const key = loadSigningKey(paths.signingKey);
  const sealer = benchSealer('bench-gw', key.privateKey, key.keyId);

  log(`ingest: ${readings} readings of ~100 bytes, batches of ${batch}, 10 batches per transaction...`);
  const ingest = await benchIngest(dir, sealer, readings, batch, 10);
  log('raw pipeline: the same work by a hand-written loop...');
  const key0 = { privateKey: key.privateKey, keyId: key.keyId };
  const pipeline = benchRawPipeline(dir, key0, readings, batch, 10);
  log('sign: one second each...');
  const sign = benchSign();
  await broker.start();
  log(`drain: ${readings / batch} envelopes, window ${o.window}, Mosquitto ${broker.url} (mTLS)...`);
  const drain = await benchDrain(
    dir,
    { url: broker.url, ca: pki.caFile, pki },
    sealer,
    readings / batch,
    batch,
    Number(o.window),
  );
  let gateway = {};
  if (!o['no-gateway']) {
    const access = { url: broker.url, ca: pki.caFile, pki };
    gateway = {
      ...(await benchGateway(dir, access, DEFAULT_PLAN, log)),
      ...(await benchThrottled(
        dir,
        access,
        broker.port,
        { bytesPerS: Number(o['link-bps']), seconds: Number(o['link-s']), readings: 3000 },
        log,
      )),
    };
  }
  let million = {};
  if (Number(o.million) > 0) {
    log(`million: the daemon drains ${o.million} buffered readings to the platform collector...`);
    const bin = join(fileURLToPath(new URL('../../../', import.meta.url)), 'bin', 'edge-agent.js');
    million = await benchMillion(
      dir,
      { url: broker.url, ca: pki.caFile, pki },
      bin,
      Number(o.million),
      batch,
      log,
    );
  }
  let platform = {};
  if (Number(o['platform-devices']) > 0) {
    const bin = join(fileURLToPath(new URL('../../../', import.meta.url)), 'bin', 'edge-platform.js');
    platform = await benchPlatform(
      dir,
      { url: broker.url, ca: pki.caFile, pki },
      bin,
      {
        devices: Number(o['platform-devices']),
        batches: 40,
        readings: 50,
        collectors: o['platform-collectors'].split(',').map(Number),
        cpuProf: o['cpu-prof'],
      },
      log,
    );
  }
  let integrity = {};
  if (Number(o['integrity-mb']) > 0) {
    log(`integrity: hashing a ${o['integrity-mb']} MB tree...`);
    integrity = await benchIntegrity(dir, Number(o['integrity-mb']));
  }
  const figures = {
    ...ingest,
    ...pipeline,
    ingest_vs_raw_pipeline:
      Math.round((ingest.ingest_readings_per_s / pipeline.raw_pipeline_readings_per_s) * 100) / 100,
    ...sign,
    ...drain,
    ...gateway,
    ...million,
    ...platform,
    ...integrity,
    ...benchSoftware(dir),
    ...(Number(o['console-gateways']) > 0
      ? await benchConsoleCity(
          dir,
          { url: broker.url, ca: pki.caFile, pki },
          log,
          Number(o['console-gateways']),
        )
      : {}),
  };
  if (o.json) console.log(JSON.stringify(figures));
  else {
    // The targets of issue #12 (README, bench section).
    const targets: Record<string, string> = {
      ingest_vs_raw_pipeline: 'target >= 0.8',
      drain_vs_raw: 'target >= 0.9',
      loop_p99_ms_1k_fsync30: 'target <= 20',
      ingest_max_readings_per_s_fsync30: 'target >= 20000',
      status_cmd_ms_running_1m: 'target <= 100',
      status_socket_ms_1m: 'target <= 100',
      throttled_outstanding_max: 'target <= throttled_window',
      rss_peak_mb: 'target <= 96',
      rss_idle_mb: 'target <= 72',
      disk_bytes_per_byte_accepted: 'target <= 4',
      platform_3c_vs_1c: 'target >= 2',
      platform_1c_vs_raw: 'target >= 0.7',
    };
    const w = Math.max(...Object.keys(figures).map((k) => k.length));
    console.log(`\n${'figure'.padEnd(w)}  value`);
    for (const [k, v] of Object.entries(figures))
      console.log(`${k.padEnd(w)}  ${String(v).padEnd(10)} ${targets[k] ?? ''}`);
  }
} finally {
  await broker.kill();
  rmSync(dir, { recursive: true, force: true });
}
