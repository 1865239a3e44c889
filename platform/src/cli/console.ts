import { readFileSync } from 'node:fs';
import { type Io, println } from '../../../agent/src/cli/io.js';
import { createLogger } from '../../../agent/src/core/index.js';
import { Console } from '../console/index.js';
import { redact, Store } from '../store/index.js';
import { COMMON_HELP, parse, storeUrl, UsageError } from './args.js';

const HELP = `Usage: edge-platform console --cert FILE --key FILE [--listen HOST:PORT]

The security console: a JSON API under /api/v1 over HTTPS with the platform's
certificate. No anonymous access: make accounts with \`edge-platform users add\`.
Runs until SIGINT or SIGTERM.

  --cert FILE          TLS certificate (PEM) of the console
  --key FILE           its private key (PEM)
  --listen HOST:PORT   where to listen (default 127.0.0.1:8443)

${COMMON_HELP}`;

export async function consoleCommand(args: string[], io: Io): Promise<number> {
  const { values: o } = parse(args, {
    cert: { type: 'string' },
    key: { type: 'string' },
    listen: { type: 'string' },
  });
  if (o.help) {
    println(io.stdout, HELP);
    return 0;
  }
  if (!o.cert || !o.key) throw new UsageError('console needs --cert FILE and --key FILE');
  const m = /^(.+):(\d{1,5})$/.exec(o.listen ?? '127.0.0.1:8443');
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen "${o.listen}": expected HOST:PORT`);
  const cert = readFileSync(o.cert);
  const key = readFileSync(o.key);
  const url = storeUrl(o.store, args, io.env);
  const store = new Store({ url, migrate: !o['no-migrate'] });
  await store.start();
  const log = createLogger({ level: io.env.EDGE_PLATFORM_LOG ?? 'info' });
  const app = new Console({ db: store.db, log, cert, key, host: m[1], port: Number(m[2]) });
  try {
    await app.start();
  } catch (e) {
    await store.stop();
    throw e;
  }
  if (o.json) println(io.stdout, JSON.stringify({ url: app.url, store: redact(url) }));
  else println(io.stdout, `console on ${app.url} (store ${redact(url)})`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await app.stop();
  await store.stop();
  return 0;
}
