import { type Io, println } from '../../../agent/src/cli/io.js';
import { CONSOLE_MIGRATIONS, consoleSchemaVersion, migrateConsole } from '../console/index.js';
import { MIGRATIONS, redact, Store } from '../store/index.js';
import { COMMON_HELP, parse, storeUrl } from './args.js';

const HELP = `Usage: edge-platform migrate [--store URL] [--status]

Applies the store's missing schema migrations in order, then the console's (its own
tables and the triggers that raise alerts from what the store keeps); each step once,
under a lock, so several processes starting at once are safe. Collectors and the other
commands migrate at start unless --no-migrate.

  --status   print the schema versions (store, console) and the newest this version
             knows; change nothing

${COMMON_HELP}`;

export async function migrateCommand(args: string[], io: Io): Promise<number> {
  const { values: o } = parse(args, { status: { type: 'boolean' } });
  if (o.help) {
    println(io.stdout, HELP);
    return 0;
  }
  const url = storeUrl(o.store, args, io.env);
  // A store behind is exactly what this command is for: open it as it is.
  const store = new Store({ url, migrate: false, check: false });
  const latest = MIGRATIONS[MIGRATIONS.length - 1].version;
  await store.start();
  try {
    const before = await store.schemaVersion();
    const applied = o.status ? [] : (await store.migrate()).applied;
    const version = await store.schemaVersion();
    const consoleApplied = o.status ? [] : (await migrateConsole(store.db)).applied;
    const consoleVersion = await consoleSchemaVersion(store.db);
    const consoleLatest = CONSOLE_MIGRATIONS[CONSOLE_MIGRATIONS.length - 1].version;
    if (o.json)
      println(
        io.stdout,
        JSON.stringify({
          store: redact(url),
          before,
          version,
          latest,
          applied,
          console: { version: consoleVersion, latest: consoleLatest, applied: consoleApplied },
        }),
      );
    else if (o.status)
      println(
        io.stdout,
        `${redact(url)}: schema ${version} (this version knows ${latest}); console ${consoleVersion} (knows ${consoleLatest})`,
      );
    else
      println(
        io.stdout,
        `${redact(url)}: ${applied.length === 0 ? `schema ${version}, nothing to apply` : `applied ${applied.join(', ')}; schema ${version}`}; ` +
          `console ${consoleApplied.length === 0 ? `${consoleVersion}, nothing to apply` : `applied ${consoleApplied.join(', ')}; now ${consoleVersion}`}`,
      );
    return 0;
  } finally {
    await store.stop();
  }
}
