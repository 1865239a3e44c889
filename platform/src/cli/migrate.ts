import { type Io, println } from '../../../agent/src/cli/io.js';
import { MIGRATIONS, redact, Store } from '../store/index.js';
import { COMMON_HELP, parse, storeUrl } from './args.js';

const HELP = `Usage: edge-platform migrate [--store URL] [--status]

Applies the store's missing schema migrations in order (each step once, under a lock,
so several processes starting at once are safe). Collectors and the other commands
migrate at start unless --no-migrate.

  --status   print the schema version and the newest this version knows; change nothing

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
    if (o.json) println(io.stdout, JSON.stringify({ store: redact(url), before, version, latest, applied }));
    else if (o.status) println(io.stdout, `${redact(url)}: schema ${version} (this version knows ${latest})`);
    else
      println(
        io.stdout,
        applied.length === 0
          ? `${redact(url)}: schema ${version}, nothing to apply`
          : `${redact(url)}: applied ${applied.join(', ')}; schema ${version}`,
      );
    return 0;
  } finally {
    await store.stop();
  }
}
