import { createInterface } from 'node:readline/promises';
import { ExitCode } from '../core/index.js';
import { wipeTargets } from '../daemon/index.js';
import { DaemonUnreachableError, request } from '../diag/index.js';
import { type WipeReport, wipeFiles } from '../privacy/index.js';
import { configFrom, parse, UsageError } from './args.js';
import { bytes, type Io, println } from './io.js';
import { technician } from './technician.js';

export const WIPE_HELP = `Usage: edge-agent wipe [--yes] [--config FILE] [--json]

Erases the gateway's data (ETSI EN 303 645 provision 5.11-1): the outbox with
everything not yet delivered, the inventory, the pseudonymisation key and the
device's keys and CSR. Files are overwritten before they are removed. Through
admin.sock while the daemon runs (which then stops: it has no keys left), or
directly when it is stopped. Asks for confirmation unless --yes; without a
terminal, --yes is required.`;

export async function wipeCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { yes: { type: 'boolean' } });
  if (values.help) {
    println(io.stdout, WIPE_HELP);
    return ExitCode.Ok;
  }
  const cfg = configFrom(values.config, io.env);
  if (!values.yes) {
    if (!io.isTty) {
      throw new UsageError('refusing without --yes when there is no terminal to confirm on');
    }
    const rl = createInterface({ input: io.stdin, output: io.stdout });
    const answer = await rl.question(
      `Erase all data and keys of ${cfg.device.id} in ${cfg.storage.dir}? Type the device id to confirm: `,
    );
    rl.close();
    if (answer.trim() !== cfg.device.id) {
      println(io.stderr, 'not confirmed: nothing erased');
      return ExitCode.Failed;
    }
  }
  const who = technician(io.env);
  let report: WipeReport;
  let via = 'admin.sock';
  try {
    report = (await request(cfg.sockets.admin, 'wipe', { technician: who }, 30_000)) as WipeReport;
  } catch (e) {
    if (!(e instanceof DaemonUnreachableError)) throw e;
    via = 'the data dir (daemon stopped)';
    report = wipeFiles(wipeTargets(cfg));
  }
  if (values.json) println(io.stdout, JSON.stringify({ technician: who, via, ...report }, null, 2));
  else {
    println(io.stdout, `wiped by ${who} through ${via}:`);
    for (const e of report.erased) println(io.stdout, `  erased ${e.what}: ${e.path} (${bytes(e.bytes)})`);
    for (const m of report.missing) println(io.stdout, `  not present: ${m}`);
  }
  return ExitCode.Ok;
}
