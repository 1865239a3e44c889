import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { silentLogger, systemClock, systemRandom } from '../../../agent/src/core/index.js';
import { MqttLink } from '../../../agent/src/sync/index.js';
import { freePort, TestBroker } from '../../../scripts/lib/mosquitto.js';
import { TestPki } from '../../../scripts/lib/test-pki.js';
import { addDefect, type Ctx, emptyResult, type Row, type RowResult, sleep } from '../lib.js';

/** The agent's defaults (config/schema.ts): what a city's gateways run with. */
const DEFAULTS = { connectTimeoutMs: 15_000, backoffMinMs: 1000, backoffMaxMs: 60_000 };

function link(url: string, pki: TestPki, device: { cert: string; key: string }) {
  return new MqttLink({
    url,
    protocolVersion: 5,
    keepaliveS: 30,
    // The agent's own cap (sync/service.ts) is about this size: a document plus overhead.
    maxPacketBytes: 256 * 1024,
    insecurePlaintext: false,
    clientId: 'gw-r5',
    tls: () => ({
      ca: readFileSync(pki.caFile),
      cert: readFileSync(device.cert),
      key: readFileSync(device.key),
    }),
    will: () => ({ topic: 'edge/v1/gw-r5/status', payload: 'offline' }),
    birth: () => ({ topic: 'edge/v1/gw-r5/status', payload: 'online' }),
    goodbye: () => ({ topic: 'edge/v1/gw-r5/status', payload: 'offline' }),
    subscriptions: [],
    ...DEFAULTS,
    clock: systemClock,
    random: systemRandom,
    log: silentLogger(),
  });
}

/** The most connection attempts seen in any one-second window. */
function peakPerSecond(times: number[]): number {
  let peak = 0;
  for (let i = 0; i < times.length; i++) {
    let j = i;
    while (j < times.length && times[j] - times[i] < 1000) j++;
    peak = Math.max(peak, j - i);
  }
  return peak;
}

function judge(r: RowResult, name: string, times: number[]): void {
  r.cases++;
  const peak = peakPerSecond(times);
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  const distinct = new Set(gaps.map((g) => Math.round(g / 10))).size;
  if (peak > 1)
    addDefect(r, `${name}: ${peak} connection attempts within one second (${times.length} in all)`);
  if (gaps.length >= 3 && distinct < 2) addDefect(r, `${name}: attempts in lockstep, without jitter`);
}

async function withheld(ctx: Ctx, r: RowResult, runs: number, runMs: number): Promise<void> {
  const pki = new TestPki(join(ctx.dir, 'pki-w'));
  const device = pki.client('gw-r5');
  for (let run = 0; run < runs; run++) {
    const times: number[] = [];
    const silent: Server = createServer((s) => {
      times.push(Date.now());
      s.on('error', () => undefined);
    });
    const port = await freePort();
    await new Promise<void>((res) => silent.listen(port, '127.0.0.1', res));
    const l = link(`mqtts://localhost:${port}`, pki, device);
    await l.start();
    await sleep(runMs);
    await l.stop();
    silent.close();
    judge(r, `withheld CONNACK, run ${run + 1}`, times);
  }
}

/** A broker that takes the session and loses it at once, for a long run: a kicker takes the client id over. */
async function flapping(ctx: Ctx, r: RowResult, runMs: number): Promise<void> {
  const pki = new TestPki(join(ctx.dir, 'pki-f'));
  const device = pki.client('gw-r5');
  const broker = new TestBroker(ctx.dir, pki, { name: 'flap' });
  await broker.start();
  const times: number[] = [];
  const l = link(broker.url, pki, device);
  l.on('up', () => {
    times.push(Date.now());
    const kick = mqtt.connect(broker.url, {
      ca: readFileSync(pki.caFile),
      cert: readFileSync(device.cert),
      key: readFileSync(device.key),
      clientId: 'gw-r5',
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    kick.once('connect', () => kick.end(true));
    kick.on('error', () => undefined);
  });
  try {
    await l.start();
    await sleep(runMs);
    await l.stop();
  } finally {
    await broker.kill();
  }
  judge(r, 'flapping broker', times);
}

/** R5: with the agent's default backoff, a silent or flapping broker never sees more than one attempt a second. */
export const r5: Row = {
  id: 'R5',
  what: 'a broker that withholds CONNACK (5 runs) and one that flaps (1 long run): connects per second',
  async run(ctx) {
    const r = emptyResult('runs');
    // --quick: one withheld run (two attempts at the 15 s CONNACK timeout) beside a shorter flapping run.
    if (ctx.quick) await Promise.all([withheld(ctx, r, 1, 16_000), flapping(ctx, r, 12_000)]);
    else {
      await withheld(ctx, r, 5, 40_000);
      await flapping(ctx, r, 120_000);
    }
    return r;
  },
};
