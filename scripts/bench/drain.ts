import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Outbox } from '../../agent/src/buffer/index.js';
import { type Sealer, Stream, silentLogger, systemClock, systemRandom } from '../../agent/src/core/index.js';
import { Sync } from '../../agent/src/sync/index.js';
import type { TestPki } from '../lib/test-pki.js';
import { benchReading } from './ingest.js';

export interface BrokerAccess {
  url: string;
  ca: string;
  pki: TestPki;
}

const cpuMicros = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return u.user + u.system;
};

/** An outbox with a budget no benchmark reaches. */
const benchOutbox = (file: string, sealer: Sealer) =>
  new Outbox({
    file,
    maxBytes: 8 * 1024 ** 3,
    minFreeBytes: 0,
    sealer,
    clock: systemClock,
    random: systemRandom,
    log: silentLogger(),
  });

/** Fills an outbox with `batches` batches of `batch` readings, committing 50 batches per transaction. */
export async function prefill(
  file: string,
  sealer: Sealer,
  batches: number,
  batch: number,
  progress?: (done: number) => void,
): Promise<void> {
  const ob = benchOutbox(file, sealer);
  await ob.start();
  let n = 0;
  for (let b = 0; b < batches; b += 50) {
    const reqs = [];
    for (let i = b; i < Math.min(batches, b + 50); i++) {
      reqs.push({ stream: Stream.TELEMETRY, items: Array.from({ length: batch }, () => benchReading(n++)) });
    }
    await ob.append(reqs);
    progress?.(Math.min(batches, b + 50));
  }
  await ob.stop();
}

/**
 * The agent's drain (Sync over the outbox) against a bare mqtt.js client
 * publishing the same envelopes at QoS 1 with the same in-flight window, to the
 * same broker, in the same run. Rates are PUBACKed envelopes per second.
 */
export async function benchDrain(
  dir: string,
  broker: BrokerAccess,
  sealer: Sealer,
  batches: number,
  batch: number,
  window: number,
) {
  const file = join(dir, 'drain.db');
  await prefill(file, sealer, batches, batch);
  const id = broker.pki.client('bench-gw');
  const ob = benchOutbox(file, sealer);
  await ob.start();
  const envelopes = ob.peek(batches).map((r) => r.envelope);
  const sync = new Sync({
    deviceId: 'bench-gw',
    mqtt: {
      url: broker.url,
      topicPrefix: 'edge/v1',
      protocolVersion: 5,
      keepaliveS: 30,
      insecurePlaintextForDevelopment: false,
    },
    sync: {
      ackMode: 'collector',
      ackTimeoutMs: 600_000,
      inflight: window,
      inflightBytes: 1024 * 1024,
      publishTimeoutMs: 60_000,
      connectTimeoutMs: 10_000,
      backoffMinMs: 100,
      backoffMaxMs: 1000,
      rateLimit: 0,
    },
    maxDocumentBytes: 65_536,
    stateDir: dir,
    tls: () => ({ ca: readFileSync(broker.ca), cert: readFileSync(id.cert), key: readFileSync(id.key) }),
    statusInfo: () => ({
      agentVersion: 'bench',
      bootTime: new Date().toISOString(),
      configVersion: 0,
      epoch: ob.epoch,
    }),
    outbox: ob,
    // Timed to PUBACK: no collector acks in this figure.
    collectorKeys: () => new Map(),
    raise: () => {},
    clock: systemClock,
    random: systemRandom,
    log: silentLogger(),
  });
  // Both sides are timed from their first PUBACK, so connecting (TLS handshake) counts for neither.
  await sync.start();
  // Polled every 2 ms: polling at every turn of the loop cost the agent a sixth of its CPU, which the raw side never pays.
  const pubacked = () => sync.status().delivery.pubacked;
  while (pubacked() < 1) await new Promise((r) => setImmediate(r));
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  while (pubacked() < batches) await new Promise((r) => setTimeout(r, 2));
  const agentS = (performance.now() - t0) / 1000;
  const agentCpu = cpuMicros(cpu0);
  await sync.stop();
  await ob.stop();

  const c = mqtt.connect(broker.url, {
    ca: readFileSync(broker.ca),
    cert: readFileSync(id.cert),
    key: readFileSync(id.key),
    protocolVersion: 5,
    clientId: 'bench-gw',
  });
  await new Promise((resolve, reject) => {
    c.once('connect', resolve);
    c.once('error', reject);
  });
  let t1 = 0;
  let cpu1 = process.cpuUsage();
  await new Promise<void>((resolve, reject) => {
    let next = 0;
    let done = 0;
    const send = () => {
      const i = next++;
      c.publish('edge/v1/bench-gw/telemetry', Buffer.from(envelopes[i]), { qos: 1 }, (err) => {
        if (err) return reject(err);
        if (++done === 1) {
          t1 = performance.now();
          cpu1 = process.cpuUsage();
        }
        if (done === envelopes.length) return resolve();
        if (next < envelopes.length) send();
      });
    };
    for (let k = 0; k < Math.min(window, envelopes.length); k++) send();
  });
  const rawS = (performance.now() - t1) / 1000;
  const rawCpu = cpuMicros(cpu1);
  await c.endAsync();
  const agentRate = (batches - 1) / agentS;
  const rawRate = (envelopes.length - 1) / rawS;
  return {
    drain_envelopes_per_s: Math.round(agentRate),
    drain_readings_per_s: Math.round(agentRate * batch),
    raw_mqtt_envelopes_per_s: Math.round(rawRate),
    drain_vs_raw: Math.round((agentRate / rawRate) * 100) / 100,
    // CPU of this process per envelope: on a loaded machine the rates follow the CPU each side gets.
    drain_cpu_us_per_envelope: Math.round(agentCpu / (batches - 1)),
    raw_mqtt_cpu_us_per_envelope: Math.round(rawCpu / (envelopes.length - 1)),
  };
}
