import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Console, oneTimeAdmin } from '../../platform/src/console/index.js';
import type { Store } from '../../platform/src/store/index.js';
import type { DevWorld } from './setup.js';

export const DEMO_ADMIN = 'admin';

/**
 * The security console over the demo's store, with the broker's certificate from the dev
 * PKI (localhost, 127.0.0.1) and a fresh one-time admin password on every start.
 */
export async function demoConsole(
  dev: string,
  store: Store,
  pki: Pick<DevWorld, 'server'>,
  port: number,
): Promise<{ app: Console; password: string }> {
  const password = await oneTimeAdmin(store.db, DEMO_ADMIN);
  const log = pino({ level: 'info' }, pino.destination({ dest: join(dev, 'console.log'), sync: false }));
  const app = new Console({
    db: store.db,
    log,
    cert: readFileSync(pki.server.cert),
    key: readFileSync(pki.server.key),
    host: '127.0.0.1',
    port,
    // The demo's outage is seconds long: sweep often so a page shows it while it lasts.
    sweepIntervalMs: 2_000,
  });
  await app.start();
  return { app, password };
}
