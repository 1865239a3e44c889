import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { type Io, println } from '../../../agent/src/cli/io.js';
import { Collector, type CollectorStats } from '../collector/index.js';
import { loadAckKey, loadKeysDocument, parseRegistry } from '../registry/index.js';
import { PG_DEFAULTS, redact, Store } from '../store/index.js';
import { COMMON_HELP, parse, storeUrl, UsageError } from './args.js';

const HELP = `Usage: edge-platform collector --url mqtts://HOST:PORT --ca FILE --cert FILE --key FILE
                              --collector-key FILE [options]

One collector of the ingest tier. Run as many as the load needs, against one store:
they share the devices' batches through an MQTT 5 shared subscription (clean start,
no session to lose). Each batch is verified (signature, size, nesting, canonical
encoding, device/topic/key agreement, registry key neither revoked nor out of its
validity), stored once with its chain row locked, and acked (signed with the collector
key) only after the transaction committed. If the store goes away, nothing is acked
and the collector reconnects; agents resend what is not acked.

  --collector-key FILE  the collector role key that signs acks (Ed25519, PKCS#8 PEM, 0600;
                        npm run sign -- keygen --name collector)
  --keys FILE           the root-signed keys document naming that key: published retained
                        on each registered device's {prefix}/{device}/keys topic
  --share-group NAME    shared-subscription group (default collectors; '' for plain
                        subscriptions: one collector only)
  --client-id ID        MQTT client id, unique per process (default collector-HOST-PID)
  --registry FILE       import this registry JSON into the store before starting
  --prefix P            topic prefix (default edge/v1)
  --servername N        TLS server name when --url names an IP address
  --ca-dir DIR          development CA mode: answer devices' signed CSRs (cert/csr) with
                        certificates from DIR/ca.crt and DIR/ca.key, on cert/issued
  --commit-ms N         longest a batch waits for its transaction (default 20)
  --query-timeout-ms N  PostgreSQL: longest one statement may take (default 15000); a server
                        that stays connected but stops answering fails the transaction after
                        it (+2 s), nothing is acked, and the connection is replaced

Prints a live line (every 5 s without a terminal); on SIGTERM/SIGINT it stores what
it holds, acks it, and prints its figures (--json: one JSON object). A broker that does
not answer gets 3 s to take the disconnect before the connection is dropped (acks lost
that way are resent by the agents), so a stop always ends.

${COMMON_HELP}`;

const OPTIONS = {
  url: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'collector-key': { type: 'string' },
  keys: { type: 'string' },
  'share-group': { type: 'string', default: 'collectors' },
  'client-id': { type: 'string' },
  registry: { type: 'string' },
  prefix: { type: 'string', default: 'edge/v1' },
  servername: { type: 'string' },
  'ca-dir': { type: 'string' },
  'commit-ms': { type: 'string', default: '20' },
  'query-timeout-ms': { type: 'string', default: String(PG_DEFAULTS.queryTimeoutMs) },
} as const;

export function statsLine(s: CollectorStats): string {
  const rejected = Object.values(s.rejected).reduce((a, b) => a + b, 0);
  return `devices ${s.devices}  batches ${s.batches}  readings ${s.readings}  events ${s.events}  duplicates ${s.duplicates}  gaps ${s.gaps} (${s.gapsExplained} explained)  conflicts ${s.conflicts}  rejected ${rejected}  store errors ${s.storeErrors}`;
}

export async function collectorCommand(args: string[], io: Io): Promise<number> {
  const { values: o } = parse(args, OPTIONS);
  if (o.help) {
    println(io.stdout, HELP);
    return 0;
  }
  for (const k of ['url', 'ca', 'cert', 'key', 'collector-key'] as const)
    if (!o[k]) throw new UsageError(`--${k} is required (edge-platform collector --help)`);
  const commitMs = Number(o['commit-ms']);
  if (!Number.isInteger(commitMs) || commitMs < 0 || commitMs > 10_000)
    throw new UsageError('--commit-ms: must be a whole number of milliseconds, 0..10000');
  const queryTimeoutMs = Number(o['query-timeout-ms']);
  if (!Number.isInteger(queryTimeoutMs) || queryTimeoutMs < 100 || queryTimeoutMs > 600_000)
    throw new UsageError('--query-timeout-ms: must be a whole number of milliseconds, 100..600000');
  const ackKey = loadAckKey(o['collector-key'] as string);
  const keysDocument = o.keys ? loadKeysDocument(o.keys, ackKey) : undefined;
  const registry = o.registry ? parseRegistry(readFileSync(o.registry, 'utf8'), o.registry) : undefined;
  const url = storeUrl(o.store, args, io.env);
  const log = (l: string) => println(io.stderr, l);
  // Listened for before anything starts: a SIGTERM during start-up (a slow migration, a
  // broker that does not answer) is a clean stop too, not Node's default of dying at once.
  const stopRequested = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const store = new Store({
    url,
    migrate: !o['no-migrate'],
    queryTimeoutMs,
    onError: (e) => log(`store: ${e.message}`),
  });
  await store.start();
  if (registry) await store.addDevices(registry);
  const c = new Collector({
    url: o.url as string,
    ca: readFileSync(o.ca as string),
    cert: readFileSync(o.cert as string),
    key: readFileSync(o.key as string),
    servername: o.servername,
    prefix: o.prefix,
    clientId: o['client-id'] ?? `collector-${hostname()}-${process.pid}`,
    shareGroup: o['share-group'] as string,
    store,
    ackKey,
    keysDocument,
    commitDelayMs: commitMs,
    caMode: o['ca-dir']
      ? {
          certPem: readFileSync(`${o['ca-dir']}/ca.crt`, 'utf8'),
          keyPem: readFileSync(`${o['ca-dir']}/ca.key`, 'utf8'),
        }
      : undefined,
    log,
  });
  let started: boolean;
  try {
    const starting = c.start().then(() => true);
    // A start that fails after a stop was asked for has nobody left to tell.
    starting.catch(() => undefined);
    started = await Promise.race([starting, stopRequested.then(() => false)]);
  } catch (e) {
    await store.stop();
    throw e;
  }
  if (!started) {
    // Stopped while starting (a broker that never answers): the collector's stop is bounded.
    await c.stop().catch((e: Error) => log(`stop: ${e.message}`));
    await store.stop();
    return 0;
  }
  log(`collector: storing in ${redact(url)} (${store.kind}), share group ${o['share-group'] || '(none)'}`);
  const prune = setInterval(
    () => void store.prune(Date.now()).catch((e: Error) => log(`prune: ${e.message}`)),
    3_600_000,
  );
  const timer = setInterval(
    () => io.stdout.write(io.isTty ? `\r${statsLine(c.stats)}` : `${statsLine(c.stats)}\n`),
    io.isTty ? 500 : 5000,
  );
  await stopRequested;
  clearInterval(timer);
  clearInterval(prune);
  await c.stop();
  await store.stop();
  println(io.stdout, o.json ? JSON.stringify(c.stats) : `${io.isTty ? '\n' : ''}${statsLine(c.stats)}`);
  return 0;
}
