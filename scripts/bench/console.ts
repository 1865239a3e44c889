import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import mqtt from 'mqtt';
import pino from 'pino';
import { Stream } from '../../agent/src/core/index.js';
import { buildSbom, type Finding, type SoftwareComponent } from '../../agent/src/software/index.js';
import { Console, MIN_KDF, usersAdd } from '../../platform/src/console/index.js';
import { Store } from '../../platform/src/store/index.js';
import { devTrust } from '../lib/dev-trust.js';
import { tempDatabase } from '../lib/pg-temp.js';
import { SimDevice } from '../lib/sim-device.js';
import { ConsoleBenchClient as Client } from './console-client.js';
import { seedConsole } from './console-seed.js';
import type { BrokerAccess } from './drain.js';

export interface ConsoleBenchOptions {
  gateways: number;
  readings: number;
  /** Requests timed per route. */
  requests: number;
  /** Events timed from publish to the SSE client. */
  events: number;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 10) / 10;
};

/** An SBOM as the agent sends it: 300 Debian packages, 6 of them with findings (one known exploited). */
export function benchSbom(deviceId: string): Buffer {
  const components: SoftwareComponent[] = Array.from({ length: 300 }, (_, i) => ({
    kind: 'deb',
    name: `pkg-${i}`,
    version: `1.${i}-1`,
    purl: `pkg:deb/debian/pkg-${i}@1.${i}-1?arch=arm64&distro=debian-12`,
  }));
  const findings: Finding[] = components.slice(0, 6).map((c, i) => ({
    id: `CVE-2026-${1000 + i}`,
    component: c,
    pkg: c.name,
    severity: i === 0 ? 'critical' : 'high',
    cvss: 8.1,
    kev: i === 1,
    fixed: `${c.version}+deb12u1`,
  }));
  const inv = { root: '/', components, dpkg: { state: 'ok' as const, packages: 300 }, warnings: [] };
  const opts = {
    deviceId,
    agentVersion: '0.1.0',
    nowMs: Date.now(),
    serialNumber: 'urn:uuid:00000000-0000-4000-8000-000000000000',
    findings,
    feedVersion: 1,
  };
  return gzipSync(buildSbom(inv, opts));
}

/**
 * The console under a city's load: `gateways` registered gateways and `readings` stored
 * readings (seeded with bulk SQL), API latency of the fleet list and of a gateway page
 * (its JSON and its telemetry chart data) next to the session route on the same
 * connection (the floor: TLS, fastify, the session lookup); then the time from a sealed
 * event published over mTLS MQTT, through an `edge-platform collector` process and the
 * store's NOTIFY, to an SSE client of the console, next to the MQTT PUBACK of that publish.
 */
export async function benchConsole(
  dir: string,
  broker: BrokerAccess,
  bin: string,
  o: ConsoleBenchOptions,
  log: (s: string) => void,
): Promise<Record<string, number>> {
  const db = await tempDatabase('edge_bench_console');
  const store = new Store({ url: db.url });
  await store.start();
  const app = new Console({
    db: store.db,
    log: pino({ level: 'silent' }),
    cert: readFileSync(broker.pki.server.cert),
    key: readFileSync(broker.pki.server.key),
    port: 0,
    kdf: MIN_KDF,
    sweepIntervalMs: 3_600_000,
  });
  let collector: ChildProcess | undefined;
  const client = (): Client => new Client(app.url, readFileSync(broker.ca, 'utf8'));
  const api = { close: () => undefined } as { close: () => void };
  try {
    await app.start();
    log(`console: seeding ${o.gateways} gateways and ${o.readings} readings with bulk SQL...`);
    const seedS = await seedConsole(db.url, o.gateways, o.readings, benchSbom('bench'));
    await usersAdd(
      store.db,
      { username: 'bench', role: 'viewer', password: 'kerb stone lantern 9', by: 'bench' },
      { kdf: MIN_KDF },
    );
    const c = client();
    api.close = () => c.close();
    await c.login('bench', 'kerb stone lantern 9');
    const id = (i: number) => `gw-${String((i * 7919) % o.gateways).padStart(4, '0')}`;
    log('console: API latency (fleet list, gateway page, telemetry; session route as the floor)...');
    // A running console's sweep has read every gateway's SBOM before the timed requests.
    const d0 = performance.now();
    await app.sweep();
    const digestS = (performance.now() - d0) / 1000;
    const [cold] = await c.time(1, () => '/api/v1/fleet');
    const fleet = await c.time(Math.max(10, Math.floor(o.requests / 4)), () => '/api/v1/fleet');
    const gateway = await c.time(o.requests, (i) => `/api/v1/gateways/${id(i)}`);
    const charts = await c.time(o.requests, (i) => `/api/v1/gateways/${id(i)}/telemetry?hours=24`);
    const session = await c.time(o.requests, () => '/api/v1/session');

    log(`console: ${o.events} events from MQTT publish to the SSE client...`);
    const dev = new SimDevice('bench-ev');
    await store.addDevices([dev.entry]);
    const trust = devTrust(join(dir, 'trust-console'));
    const keyFile = join(dir, 'collector-console.key');
    writeFileSync(keyFile, trust.collectorKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const col = broker.pki.client('collector');
    collector = spawn(
      process.execPath,
      [
        bin,
        'collector',
        ...['--url', broker.url, '--ca', broker.ca, '--cert', col.cert, '--key', col.key],
        ...['--collector-key', keyFile, '--store', db.url, '--client-id', 'bench-console', '--json'],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    collector.stderr?.on('data', (d) => {
      err += d;
    });
    while (!err.includes('collector: storing in')) {
      if (collector.exitCode !== null) throw new Error(`collector exited: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const cert = broker.pki.client(dev.deviceId);
    const mq = await mqtt.connectAsync(broker.url, {
      ca: readFileSync(broker.ca),
      cert: readFileSync(cert.cert),
      key: readFileSync(cert.key),
      clientId: dev.deviceId,
      protocolVersion: 5,
      connectTimeout: 60_000,
    });
    let waiting: (() => void) | undefined;
    const stopSse = await c.sse((device) => {
      if (device === dev.deviceId) waiting?.();
    });
    const toSse: number[] = [];
    const puback: number[] = [];
    try {
      for (let i = 0; i < o.events; i++) {
        const { envelope } = dev.next(
          Stream.EVENTS,
          [
            {
              stream: Stream.EVENTS,
              event: {
                type: 'tamper.door_open',
                severity: 4,
                tsMs: Date.now(),
                subject: `door-${i}`,
                details: {},
              },
            },
          ],
          Date.now(),
        );
        const seen = new Promise<void>((r) => {
          waiting = r;
        });
        const t0 = performance.now();
        await mq.publishAsync(`edge/v1/${dev.deviceId}/events`, Buffer.from(envelope), { qos: 1 });
        puback.push(performance.now() - t0);
        await Promise.race([
          seen,
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error('no alert on the SSE stream in 10 s')), 10_000),
          ),
        ]);
        toSse.push(performance.now() - t0);
      }
    } finally {
      stopSse();
      await mq.endAsync();
    }
    return {
      console_gateways: o.gateways,
      console_readings: o.readings,
      console_seed_s: Math.round(seedS * 10) / 10,
      console_sbom_digest_s: Math.round(digestS * 10) / 10,
      console_fleet_first_ms: Math.round(cold),
      console_fleet_p50_ms: pct(fleet, 50),
      console_fleet_p99_ms: pct(fleet, 99),
      console_gateway_p50_ms: pct(gateway, 50),
      console_gateway_p99_ms: pct(gateway, 99),
      console_telemetry_p50_ms: pct(charts, 50),
      console_telemetry_p99_ms: pct(charts, 99),
      console_session_p50_ms: pct(session, 50),
      console_session_p99_ms: pct(session, 99),
      console_event_to_sse_p50_ms: pct(toSse, 50),
      console_event_to_sse_p99_ms: pct(toSse, 99),
      console_event_puback_p50_ms: pct(puback, 50),
    };
  } finally {
    api.close();
    if (collector && collector.exitCode === null && collector.signalCode === null) {
      collector.kill('SIGTERM');
      await new Promise((r) => collector?.once('exit', r));
    }
    await app.stop();
    await store.stop();
    await db.drop();
  }
}

/** `npm run bench`'s console part: by default 1,000 gateways and a million readings (#16). */
export function benchConsoleCity(
  dir: string,
  broker: BrokerAccess,
  log: (s: string) => void,
  gateways = 1000,
): Promise<Record<string, number>> {
  const bin = join(fileURLToPath(new URL('../../../', import.meta.url)), 'bin', 'edge-platform.js');
  return benchConsole(
    dir,
    broker,
    bin,
    { gateways, readings: gateways * 1000, requests: 200, events: 30 },
    log,
  );
}
