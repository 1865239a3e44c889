import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pg from 'pg';
import { verifyEnvelope } from '../../agent/src/telemetry/index.js';
import { Store } from '../../platform/src/store/index.js';
import { devTrust } from '../lib/dev-trust.js';
import { tempDatabase } from '../lib/pg-temp.js';
import { ringOf, SimDevice } from '../lib/sim-device.js';
import type { BrokerAccess } from './drain.js';

interface Load {
  devices: SimDevice[];
  /** Per device, its sealed telemetry envelopes in seq order. */
  envelopes: Uint8Array[][];
  batches: number;
  readings: number;
}

function makeLoad(devices: number, batchesPerDevice: number, readingsPerBatch: number): Load {
  const list = Array.from(
    { length: devices },
    (_, i) => new SimDevice(`bench-${String(i).padStart(3, '0')}`),
  );
  const envelopes = list.map((d) =>
    Array.from(
      { length: batchesPerDevice },
      (_, b) => d.readings(readingsPerBatch, b * readingsPerBatch).envelope,
    ),
  );
  return {
    devices: list,
    envelopes,
    batches: devices * batchesPerDevice,
    readings: devices * batchesPerDevice * readingsPerBatch,
  };
}

/**
 * N `edge-platform collector` processes on one PostgreSQL database; every simulated device
 * publishes its sealed batches over its own mTLS connection; the time runs from the first
 * publish until the store holds every batch.
 */
async function runCollectors(
  dir: string,
  broker: BrokerAccess,
  bin: string,
  load: Load,
  n: number,
  cpuProf: string | undefined,
): Promise<{ seconds: number; txSize: number; bytes: { readings: number; batches: number } }> {
  const db = await tempDatabase('edge_bench_platform');
  const store = new Store({ url: db.url });
  await store.start();
  await store.addDevices(load.devices.map((d) => d.entry));
  const trust = devTrust(join(dir, `trust-${n}`));
  const keyFile = join(dir, `collector-${n}.key`);
  writeFileSync(keyFile, trust.collectorKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const col = broker.pki.client('collector');
  const procs: ChildProcess[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const child = spawn(
        process.execPath,
        [
          ...(cpuProf && i === 0 ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : []),
          bin,
          'collector',
          ...['--url', broker.url, '--ca', broker.ca, '--cert', col.cert, '--key', col.key],
          ...['--collector-key', keyFile, '--store', db.url, '--client-id', `bench-c${i}`, '--json'],
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      procs.push(child);
      let err = '';
      child.stderr?.on('data', (d) => {
        err += d;
      });
      while (!err.includes('collector: storing in')) {
        if (child.exitCode !== null) throw new Error(`collector exited: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    // One at a time, with a long CONNACK wait: dozens of TLS handshakes at once time out on a busy machine.
    const clients: mqtt.MqttClient[] = [];
    for (const d of load.devices) {
      const c = broker.pki.client(d.deviceId);
      const client = await mqtt.connectAsync(broker.url, {
        ca: readFileSync(broker.ca),
        cert: readFileSync(c.cert),
        key: readFileSync(c.key),
        clientId: d.deviceId,
        protocolVersion: 5,
        connectTimeout: 120_000,
      });
      client.on('error', () => undefined);
      clients.push(client);
    }
    const t0 = performance.now();
    await Promise.all(
      clients.flatMap((client, i) =>
        load.envelopes[i].map((env) =>
          client.publishAsync(`edge/v1/${load.devices[i].deviceId}/telemetry`, Buffer.from(env), { qos: 1 }),
        ),
      ),
    );
    for (;;) {
      const [r] = await store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM batches');
      if (r.n >= load.batches) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    const seconds = (performance.now() - t0) / 1000;
    const [size] = await store.db.query<{ r: number; b: number }>(
      "SELECT pg_total_relation_size('readings')::float8 AS r, pg_total_relation_size('batches')::float8 AS b",
    );
    await Promise.all(clients.map((c) => c.endAsync()));
    let batches = 0;
    let transactions = 0;
    for (const p of procs) {
      let out = '';
      p.stdout?.on('data', (d) => {
        out += d;
      });
      p.kill('SIGTERM');
      await once(p, 'exit');
      const s = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
        batches?: number;
        transactions?: number;
      };
      batches += s.batches ?? 0;
      transactions += s.transactions ?? 0;
    }
    return {
      seconds,
      txSize: transactions > 0 ? batches / transactions : 1,
      bytes: { readings: size.r, batches: size.b },
    };
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await store.stop();
    await db.drop();
  }
}

/** The same rows (batch, readings, chain row) inserted by a bare pg loop, `txSize` batches per transaction. */
async function runRaw(load: Load, txSize: number): Promise<number> {
  const db = await tempDatabase('edge_bench_raw');
  const store = new Store({ url: db.url });
  await store.start();
  await store.stop();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const ring = ringOf(load.devices);
  // Decoding is not what the baseline measures: done before the clock starts.
  const items = load.envelopes.flatMap((list) => list.map((e) => ({ e, v: verifyEnvelope(e, ring) })));
  try {
    const t0 = performance.now();
    for (let i = 0; i < items.length; i += Math.max(1, Math.round(txSize))) {
      await client.query('BEGIN');
      for (const { e, v } of items.slice(i, i + Math.max(1, Math.round(txSize)))) {
        const b = v.batch;
        await client.query(
          `INSERT INTO batches (device_id, stream, epoch, seq, payload_hash, prev_hash, key_id, created_at, readings, events, envelope)
           VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8 / 1000.0), $9, 0, $10)`,
          [
            b.deviceId,
            b.stream,
            b.epoch,
            b.seq,
            v.payloadHash,
            b.prevHash,
            v.keyId,
            b.createdAtMs,
            b.readings.length,
            e,
          ],
        );
        await client.query(
          `INSERT INTO readings (device_id, sensor_id, ts, unit, kind, num, labels, epoch, seq)
           SELECT $1, r.s, to_timestamp(r.t / 1000.0), r.u, 'number', r.n, '{}', $2, $3
           FROM unnest($4::text[], $5::float8[], $6::text[], $7::float8[]) AS r(s, t, u, n)`,
          [
            b.deviceId,
            b.epoch,
            b.seq,
            b.readings.map((r) => r.sensorId),
            b.readings.map((r) => r.tsMs),
            b.readings.map((r) => r.unit),
            b.readings.map((r) => r.value.value),
          ],
        );
        await client.query(
          `INSERT INTO chains (device_id, stream, epoch, contiguous, highest, batches) VALUES ($1, $2, $3, $4, $4, 1)
           ON CONFLICT (device_id, stream, epoch) DO UPDATE SET contiguous = $4, highest = $4, batches = chains.batches + 1`,
          [b.deviceId, b.stream, b.epoch, b.seq],
        );
      }
      await client.query('COMMIT');
    }
    return (performance.now() - t0) / 1000;
  } finally {
    await client.end();
    await db.drop();
  }
}

/** Batches stored per second by 1, 2 and 3 collectors, and by a bare pg loop (same rows, same transaction size). */
export async function benchPlatform(
  dir: string,
  broker: BrokerAccess,
  bin: string,
  opts: {
    devices: number;
    batches: number;
    readings: number;
    collectors: number[];
    cpuProf?: string;
  },
  log: (s: string) => void,
): Promise<Record<string, number>> {
  const load = makeLoad(opts.devices, opts.batches, opts.readings);
  const out: Record<string, number> = {};
  let txSize = 1;
  for (const n of opts.collectors) {
    log(`platform: ${n} collector(s), ${load.batches} batches from ${opts.devices} devices...`);
    const r = await runCollectors(dir, broker, bin, load, n, opts.cpuProf);
    out[`platform_batches_per_s_${n}c`] = Math.round(load.batches / r.seconds);
    if (n === 1) {
      txSize = r.txSize;
      out.platform_readings_per_s_1c = Math.round(load.readings / r.seconds);
      out.platform_tx_size_1c = Math.round(r.txSize * 10) / 10;
      // Size per million readings (batches of opts.readings), with indexes: readings rows, and the signed envelopes.
      const perMillion = (b: number) => Math.round(((b / load.readings) * 1e6) / 1048576);
      out.platform_readings_mb_per_million = perMillion(r.bytes.readings);
      out.platform_batches_mb_per_million = perMillion(r.bytes.batches);
    }
  }
  log(`platform: raw pg loop, ${Math.round(txSize)} batches per transaction...`);
  const raw = await runRaw(load, txSize);
  out.platform_raw_pg_batches_per_s = Math.round(load.batches / raw);
  if (out.platform_batches_per_s_3c)
    out.platform_3c_vs_1c =
      Math.round((out.platform_batches_per_s_3c / out.platform_batches_per_s_1c) * 100) / 100;
  out.platform_1c_vs_raw =
    Math.round((out.platform_batches_per_s_1c / out.platform_raw_pg_batches_per_s) * 100) / 100;
  return out;
}
