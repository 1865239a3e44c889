import { parseArgs } from 'node:util';

/** Bad command-line usage: exit code 2, naming the option and why. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'USAGE';
}

export const DEFAULT_STORE = 'pglite:./platform-data';

/** Options every command takes. */
export const COMMON = {
  store: { type: 'string', default: DEFAULT_STORE },
  'no-migrate': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const COMMON_HELP = `Options (every command):
  --store URL     postgres://USER@HOST[:PORT]/DB (PostgreSQL through pg), or pglite:DIR
                  (PGlite in-process, one process at a time; default ${DEFAULT_STORE});
                  also $EDGE_PLATFORM_STORE
  --no-migrate    refuse to start on a store whose schema is behind, instead of migrating it
  --json          machine-readable output
  -h, --help      help for the command`;

type Spec = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

export function parse<O extends Spec>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `--store`, else `$EDGE_PLATFORM_STORE`, else the default PGlite folder. */
export function storeUrl(flag: unknown, argv: string[], env: NodeJS.ProcessEnv): string {
  const given = argv.some((a) => a === '--store' || a.startsWith('--store='));
  return given ? String(flag) : (env.EDGE_PLATFORM_STORE ?? DEFAULT_STORE);
}
