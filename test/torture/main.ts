#!/usr/bin/env node
// `npm run torture`: the fault and attack suite (issue #18). It lives under test/ because it
// drives the test helpers (PKI, Mosquitto, collector, agent processes); scripts never import tests.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Ctx, Rng, type Row, type RowReport, type RowResult, scratch, verdictOf } from './lib.js';
import { ROWS } from './rows/index.js';
import { printTable } from './table.js';

const HELP = `npm run torture [-- options]

Runs the fault and attack rows against the built agent and prints one table.

  --quick          about 3 minutes: fewer cycles per row (what CI runs); without it the
                   full run, where R8 (the 30-minute soak) runs in its own process beside the rest
  --only IDS       only these rows, comma-separated (e.g. --only S2,R1)
  --seed N         the random seed (printed by every run; a failing case is reproduced with it)
  --out FILE       where the JSON table goes (default torture-results.json)
  --list           list the rows and exit
  -h, --help       this text

Exit code 0 when every row passes, 1 when a row failed or ran nothing, 2 on bad usage.`;

async function main(): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse();
  } catch (e) {
    process.stderr.write(`torture: ${(e as Error).message}\n${HELP}\n`);
    return 2;
  }
  const v = args.values;
  if (v.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (v.list) {
    for (const r of ROWS)
      process.stdout.write(`${r.id.padEnd(4)} ${r.what}${r.inQuick === false ? ' (full run only)' : ''}\n`);
    return 0;
  }
  const quick = Boolean(v.quick);
  const seed = v.seed !== undefined ? Number(v.seed) : Math.floor(Math.random() * 2 ** 31);
  if (!Number.isSafeInteger(seed)) {
    process.stderr.write('torture: --seed must be an integer\n');
    return 2;
  }
  const only = v.only ? v.only.split(',').map((s) => s.trim().toUpperCase()) : null;
  const unknown = only?.filter((id) => !ROWS.some((r) => r.id === id)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`torture: --only: no row ${unknown.join(', ')} (see --list)\n`);
    return 2;
  }
  const rows = ROWS.filter((r) => (only ? only.includes(r.id) : !quick || r.inQuick !== false));
  const started = new Date();
  process.stdout.write(`torture: ${quick ? 'quick' : 'full'} run, seed ${seed}, ${rows.length} rows\n`);
  const runRow = async (row: Row, i: number): Promise<RowReport> => {
    const t = scratch(row.id.toLowerCase());
    const ctx: Ctx = {
      quick,
      seed: seed + i,
      rng: new Rng(seed + i),
      dir: t.dir,
      log: (m) => process.stdout.write(`  [${row.id}] ${m}\n`),
    };
    const t0 = Date.now();
    process.stdout.write(`${row.id} ${row.what}${row.beside && !quick ? ' (beside the other rows)' : ''}\n`);
    let res: RowResult;
    try {
      res = await row.run(ctx);
    } catch (e) {
      res = {
        cases: 0,
        unit: 'cases',
        lost: 0,
        duplicates: 0,
        crashes: 1,
        defects: [`the row itself failed (seed ${ctx.seed}): ${(e as Error).stack ?? String(e)}`],
      };
    } finally {
      t.cleanup();
    }
    const rep: RowReport = {
      id: row.id,
      what: row.what,
      ...res,
      verdict: verdictOf(res),
      seconds: Math.round((Date.now() - t0) / 100) / 10,
    };
    process.stdout.write(
      `  -> ${row.id} ${rep.verdict} (${rep.cases} ${rep.unit}, ${rep.seconds} s)${rep.cases === 0 ? ': ran nothing' : ''}\n`,
    );
    for (const d of rep.defects) process.stdout.write(`  DEFECT [${row.id}, seed ${ctx.seed}]: ${d}\n`);
    return rep;
  };
  // A long soak runs beside the other rows in the full run rather than after them, in its own
  // process (its in-process collector must not wait on the CPU-bound rows' event loop): the
  // run stays about as long as the soak, and the soak sees the load of the rest.
  const aside = (row: Row, i: number) =>
    besideProcess(row, seed + i, `${v.out ?? 'torture-results.json'}.${row.id}`);
  const pending = rows.map((row, i) => (row.beside && !quick && rows.length > 1 ? aside(row, i) : undefined));
  const done = new Map<number, RowReport>();
  for (const [i, row] of rows.entries()) if (!pending[i]) done.set(i, await runRow(row, i));
  for (const [i, p] of pending.entries()) if (p) done.set(i, await p);
  const reports = rows.map((_, i) => done.get(i)!);
  printTable(reports, (s) => process.stdout.write(s));
  const out = v.out ?? 'torture-results.json';
  writeFileSync(
    out,
    `${JSON.stringify({ date: started.toISOString(), mode: quick ? 'quick' : 'full', seed, node: process.version, rows: reports }, null, 2)}\n`,
  );
  process.stdout.write(`table written to ${out}\n`);
  return reports.every((r) => r.verdict === 'pass') ? 0 : 1;
}

/** Runs one row as `main.js --only ID` in a child process and reads its report back. */
function besideProcess(row: Row, seed: number, out: string): Promise<RowReport> {
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--only', row.id, '--seed', String(seed), '--out', out],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  return new Promise((resolve) => {
    child.once('exit', () => {
      try {
        resolve((JSON.parse(readFileSync(out, 'utf8')) as { rows: RowReport[] }).rows[0]);
        rmSync(out, { force: true });
      } catch (e) {
        const res = { cases: 0, unit: 'cases', lost: 0, duplicates: 0, crashes: 1 } as const;
        const defects = [`the row's process left no report (seed ${seed}): ${(e as Error).message}`];
        resolve({ id: row.id, what: row.what, ...res, defects, verdict: 'FAIL', seconds: 0 });
      }
    });
  });
}

function parse() {
  return parseArgs({
    options: {
      quick: { type: 'boolean' },
      only: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`torture: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
