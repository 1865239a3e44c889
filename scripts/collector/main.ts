#!/usr/bin/env node
// scripts/collector: the reference collector, runnable.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Collector } from './collector.js';
import { loadAckKey, loadKeysDocument, loadRegistry } from './registry.js';

const HELP = `Usage: collector --url mqtts://HOST:PORT --ca FILE --cert FILE --key FILE --registry FILE
                 --collector-key FILE [options]

Connects over mutual TLS (MQTT 5, persistent session), verifies every envelope of
every device in the registry, stores each batch once in SQLite and acks the highest
contiguous seq of each chain after its commit, each ack signed with the collector key.

  --collector-key FILE  the collector role key that signs acks (Ed25519, PKCS#8 PEM, 0600;
                        npm run sign -- keygen --name collector); agents delete rows only
                        for acks signed by a collector key that a root-signed keys document names
  --keys FILE        that root-signed keys document: published retained on each registered
                     device's {prefix}/{device}/keys topic at start

Options:
  --db FILE          SQLite store (default collector.db)
  --prefix P         topic prefix (default edge/v1)
  --client-id ID     MQTT client id (default collector)
  --servername N     TLS server name when --url names an IP address
  --ca-dir DIR       development CA mode: answer devices' signed CSRs (cert/csr) with
                     certificates from DIR/ca.crt and DIR/ca.key, on cert/issued
  --json             print the final figures as JSON on exit
  -h, --help         this text

The registry is a JSON array of what \`edge-agent identity show --json\` prints
(deviceId and signingPublicKey), or {"devices": [...]}.`;

const { values: o } = parseArgs({
  options: {
    url: { type: 'string' },
    ca: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    registry: { type: 'string' },
    'collector-key': { type: 'string' },
    keys: { type: 'string' },
    db: { type: 'string', default: 'collector.db' },
    prefix: { type: 'string', default: 'edge/v1' },
    'client-id': { type: 'string', default: 'collector' },
    servername: { type: 'string' },
    'ca-dir': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (o.help) {
  console.log(HELP);
  process.exit(0);
}
for (const k of ['url', 'ca', 'cert', 'key', 'registry', 'collector-key'] as const) {
  if (!o[k]) {
    console.error(`collector: --${k} is required\n\n${HELP}`);
    process.exit(2);
  }
}
let ackKey: ReturnType<typeof loadAckKey>;
let keysDocument: Buffer | undefined;
try {
  ackKey = loadAckKey(o['collector-key']!);
  keysDocument = o.keys ? loadKeysDocument(o.keys, ackKey) : undefined;
} catch (e) {
  console.error(`collector: ${(e as Error).message}`);
  process.exit(2);
}
const c = new Collector({
  url: o.url!,
  ca: readFileSync(o.ca!),
  cert: readFileSync(o.cert!),
  key: readFileSync(o.key!),
  servername: o.servername,
  prefix: o.prefix,
  clientId: o['client-id'],
  db: o.db!,
  registry: loadRegistry(o.registry!),
  ackKey,
  keysDocument,
  caMode: o['ca-dir']
    ? {
        certPem: readFileSync(`${o['ca-dir']}/ca.crt`, 'utf8'),
        keyPem: readFileSync(`${o['ca-dir']}/ca.key`, 'utf8'),
      }
    : undefined,
  log: (l) => process.stderr.write(`${l}\n`),
});
await c.start();
const line = () => {
  const s = c.stats;
  const rejected = Object.values(s.rejected).reduce((a, b) => a + b, 0);
  return `devices ${s.devices}  batches ${s.batches}  readings ${s.readings}  events ${s.events}  duplicates ${s.duplicates}  gaps ${s.gaps} (${s.gapsExplained} explained)  conflicts ${s.conflicts}  rejected ${rejected}`;
};
const tty = process.stdout.isTTY;
const timer = setInterval(() => process.stdout.write(tty ? `\r${line()}` : `${line()}\n`), tty ? 500 : 5000);
const stop = async () => {
  clearInterval(timer);
  await c.stop();
  process.stdout.write(o.json ? `${JSON.stringify(c.stats)}\n` : `\n${line()}\n`);
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
