#!/usr/bin/env node
// `npm start`: the whole spine on one machine, with no setup and nothing installed.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Agent } from '../../agent/src/agent.js';
import {
  quietStdio,
  REDACT_PATHS,
  Severity,
  Stream,
  systemClock,
  systemRandom,
} from '../../agent/src/core/index.js';
import { Collector } from '../../platform/src/collector/index.js';
import { parseRegistry } from '../../platform/src/registry/index.js';
import { Store } from '../../platform/src/store/index.js';
import { devTrust } from '../lib/dev-trust.js';
import { DemoBroker } from './broker.js';
import { DEMO_ADMIN, demoConsole } from './console.js';
import { SimulatedSensors } from './sensors.js';
import { devAgent, devPki } from './setup.js';

const HELP = `Usage: npm start [-- options]

Runs the edge agent end to end on this machine: a development PKI, the device's
identity and the collector's under .dev/, an embedded MQTT broker (aedes, TLS with
client certificates and the ACL), the platform's collector on PGlite (.dev/platform), the
security console on it (HTTPS with the dev PKI's certificate; a one-time admin login is
printed), and the agent with simulated sensors plus real health metrics. Then it takes the broker away for a
while, so the backlog grows, and brings it back, so it drains. Ctrl-C stops it
and prints the summary. When stdout is not a terminal (CI, a pipe, a log file) it
ends by itself after one outage and drain, with the summary.

Options:
  --duration S     stop by itself after S seconds (default: on a terminal, run until
                   Ctrl-C; otherwise, once the backlog after the outage has drained)
  --outage-at S    when the simulated outage starts (default 20)
  --outage-for S   how long it lasts (default 15)
  --rate N         simulated readings per second (default 60)
  --console-port N where the console listens on 127.0.0.1 (default 8443; 0: any free port)
  --fresh          delete the dev folder first (new PKI, new identity, new buffer)
  --dir DIR        the dev folder (default .dev/ in the repository)
  -h, --help       this text`;

quietStdio();
const options = {
  duration: { type: 'string' },
  'outage-at': { type: 'string', default: '20' },
  'outage-for': { type: 'string', default: '15' },
  rate: { type: 'string', default: '60' },
  'console-port': { type: 'string', default: '8443' },
  fresh: { type: 'boolean' },
  dir: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;
function usage(message: string): never {
  process.stderr.write(`npm start: ${message} (npm start -- --help lists the options)\n`);
  process.exit(2);
}
let parsed: ReturnType<typeof parseArgs<{ options: typeof options }>>;
try {
  parsed = parseArgs({ options });
} catch (e) {
  usage((e as Error).message);
}
const o = parsed.values;
for (const k of ['duration', 'outage-at', 'outage-for', 'rate'] as const) {
  const v = o[k];
  if (v !== undefined && !(Number(v) > 0)) usage(`--${k} must be a positive number, got "${v}"`);
}
const consolePort = Number(o['console-port']);
if (!Number.isInteger(consolePort) || consolePort < 0 || consolePort > 65535)
  usage(`--console-port must be a port number (0-65535), got "${o['console-port']}"`);
if (o.help) {
  console.log(HELP);
  process.exit(0);
}

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dev = o.dir ?? join(root, '.dev');
if (o.fresh) rmSync(dev, { recursive: true, force: true });
const tty = Boolean(process.stdout.isTTY);
const say = (s: string) => process.stdout.write(tty ? `\r\x1b[K${s}\n` : `${s}\n`);

say(`edge-agent demo: everything lives in ${dev}`);
// Without a terminal nobody may be there to press Ctrl-C (CI, a pipe): one cycle, then the summary.
const untilDrained = !tty && !o.duration;
say(
  untilDrained
    ? 'stop: Ctrl-C, or it ends by itself once the outage is over and the backlog has drained'
    : 'stop: Ctrl-C (everything is stopped cleanly and the summary printed)',
);
const pki = devPki(dev);
const broker = new DemoBroker({
  ca: readFileSync(pki.ca, 'utf8'),
  cert: readFileSync(pki.server.cert, 'utf8'),
  key: readFileSync(pki.server.key, 'utf8'),
});
await broker.start();
say(
  `broker:    aedes (MQTT 3.1.1) on mqtts://localhost:${broker.port}, client certificates required, ACL applied`,
);
const trust = devTrust(join(dev, 'trust'));
const { config, configFile, registry } = await devAgent(dev, broker.port, pki, trust);
say(`agent:     device ${config.device.id}, config ${configFile}, log ${join(dev, 'agent.log')}`);

// The platform side as a small city runs it: PGlite in-process, the same SQL as PostgreSQL.
const storeUrl = `pglite:${join(dev, 'platform')}`;
const store = new Store({ url: storeUrl });
await store.start();
await store.addDevices(parseRegistry(readFileSync(registry, 'utf8'), registry));
const collector = new Collector({
  url: `mqtts://localhost:${broker.port}`,
  ca: readFileSync(pki.ca),
  cert: readFileSync(pki.collector.cert),
  key: readFileSync(pki.collector.key),
  // aedes speaks MQTT 3.1.1 and has no shared subscriptions: one collector, plain subscriptions.
  protocolVersion: 4,
  shareGroup: '',
  clientId: 'collector-demo',
  store,
  ackKey: trust.collectorKey,
  keysDocument: trust.keysDocument,
});
await collector.start();
say(`collector: edge-platform collector, registry ${registry} imported, storing in ${storeUrl}`);
const { app: consoleApp, password } = await demoConsole(dev, store, pki, consolePort);
say(
  `console:   ${consoleApp.url.replace('127.0.0.1', 'localhost')} (CA ${pki.ca}), one-time login ${DEMO_ADMIN} / ${password}`,
);

const log = pino(
  { level: config.log.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
  pino.destination({ dest: join(dev, 'agent.log'), sync: false }),
);
const agent = new Agent(config, { clock: systemClock, random: systemRandom, log });
await agent.start();
const sensors = new SimulatedSensors(Number(o.rate), (items) => agent.pipe.batcher.submit(items));
sensors.start();
void agent.health.sampleNow();

const started = Date.now();
const outageAt = Number(o['outage-at']) * 1000;
const outageFor = Number(o['outage-for']) * 1000;
let phase: 'live' | 'outage' | 'draining' = 'live';
let outageDone = false;

const buffered = () => agent.pipe.outbox.stats().reduce((n, s) => n + s.pending.rows + s.sent.rows, 0);
const line = () => {
  const link = agent.sync.status();
  const s = collector.stats;
  const t = Math.round((Date.now() - started) / 1000);
  const label = phase === 'outage' ? 'OUTAGE  ' : phase === 'draining' ? 'draining' : 'live    ';
  return `[${String(t).padStart(3)}s ${label}] sealed ${agent.pipe.accepted.telemetry} readings | buffered ${buffered()} batches | PUBACKed ${link.delivery.pubacked} | collector verified ${s.batches} batches, ${s.readings} readings, acked ${link.delivery.ackedRows} | link ${link.state}${link.lastError ? ` (${link.lastError.code})` : ''}`;
};

const ticker = setInterval(
  async () => {
    const t = Date.now() - started;
    if (!outageDone && phase === 'live' && t >= outageAt) {
      phase = 'outage';
      say('--- simulated outage: the broker goes away; readings keep being sealed and buffered ---');
      await broker.pause();
      setTimeout(() => {
        say('--- the cabinet door opens during the outage: a security event joins the backlog ---');
        void agent.pipe.batcher.submit([
          {
            stream: Stream.EVENTS,
            event: {
              type: 'tamper.door_open',
              severity: Severity.HIGH,
              tsMs: Date.now(),
              subject: 'cabinet-door',
              details: { source: 'demo' },
            },
          },
        ]);
      }, outageFor / 2);
    } else if (phase === 'outage' && t >= outageAt + outageFor) {
      await broker.resume();
      phase = 'draining';
      outageDone = true;
      say('--- the broker is back: the backlog drains, security events first ---');
    } else if (phase === 'draining' && buffered() <= 2) {
      phase = 'live';
      say('--- backlog drained: every batch verified and acked by the collector ---');
      if (untilDrained) void shutdown();
    }
    if (tty) process.stdout.write(`\r\x1b[K${line()}`);
  },
  tty ? 250 : 1000,
);
const plain = tty ? undefined : setInterval(() => say(line()), 2000);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  clearInterval(plain);
  sensors.stop();
  if (phase === 'outage') await broker.resume();
  say(line());
  say('stopping: waiting for the last batches to be acked (10 s at most)...');
  await agent.pipe.batcher.stop();
  const until = Date.now() + 10_000;
  while (buffered() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  const left = buffered();
  const sealed = agent.pipe.accepted.telemetry;
  const events = agent.pipe.accepted.events;
  say(line());
  await agent.stop();
  await collector.stop();
  await consoleApp.stop();
  await store.stop();
  await broker.stop();
  const s = collector.stats;
  say(
    `summary: sealed ${sealed} readings; the collector verified and stored ${s.readings} readings in ${s.batches} batches; ` +
      `duplicates ${s.duplicates}, gaps ${s.gaps}, conflicts ${s.conflicts}, rejected ${Object.values(s.rejected).reduce((a, b) => a + b, 0)}; ` +
      `left in the buffer ${left}`,
  );
  say(`security events: ${events} sealed, ${s.events} verified at the collector`);
  const ok = left === 0 && s.readings === sealed && s.events === events && s.conflicts === 0;
  say(
    ok
      ? 'demo: OK, every sealed reading reached the collector exactly once, verified.'
      : 'demo: NOT everything arrived (see above)',
  );
  process.exit(ok ? 0 : 1);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
if (o.duration) setTimeout(() => void shutdown(), Number(o.duration) * 1000);
