import { ConsoleError } from '../errors.js';
import type { Db } from '../types.js';
import { CONSOLE_MIGRATIONS, type ConsoleMigration } from './migrations.js';

export { CONSOLE_MIGRATIONS, type ConsoleMigration } from './migrations.js';

/** Several consoles may start at once: one migrates, the others wait on this lock. */
const LOCK = 0x636f6e73;

/**
 * Applies the console's missing migrations in order, in one transaction. Statements are
 * sent one by one ($$-quoted function bodies are kept whole).
 */
export async function migrateConsole(
  db: Db,
  steps: readonly ConsoleMigration[] = CONSOLE_MIGRATIONS,
): Promise<{ applied: number[] }> {
  const applied: number[] = [];
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK]);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS console_migrations (version integer PRIMARY KEY, name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set(
      (await tx.query<{ version: number }>('SELECT version FROM console_migrations')).map((r) => r.version),
    );
    for (const m of steps) {
      if (done.has(m.version)) continue;
      for (const s of statements(m.sql)) {
        await tx.query(s).catch((e: Error) => {
          throw new ConsoleError(
            'MIGRATION_FAILED',
            `console migration ${m.version} (${m.name}): ${e.message}`,
            {
              cause: e,
            },
          );
        });
      }
      await tx.query('INSERT INTO console_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
  });
  return { applied };
}

/** The newest console migration applied to `db` (0: none yet). */
export async function consoleSchemaVersion(db: Db): Promise<number> {
  const [t] = await db.query<{ present: boolean }>(
    "SELECT to_regclass('console_migrations') IS NOT NULL AS present",
  );
  if (!t?.present) return 0;
  const [r] = await db.query<{ v: number | null }>('SELECT max(version) AS v FROM console_migrations');
  return Number(r?.v ?? 0);
}

/** Splits on `;` at line ends, outside `$$ ... $$` bodies; drops `--` comment lines. */
export function statements(sql: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inBody = false;
  for (const line of sql.split('\n')) {
    if (!inBody && line.trim().startsWith('--')) continue;
    cur += `${line}\n`;
    if ((line.match(/\$\$/g) ?? []).length % 2 === 1) inBody = !inBody;
    if (!inBody && line.trimEnd().endsWith(';')) {
      out.push(cur.trim().replace(/;$/, ''));
      cur = '';
    }
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}
