import { ExitCode } from '../core/index.js';
import { request } from '../diag/index.js';
import { configFrom, parse, UsageError } from './args.js';
import { type Io, println } from './io.js';
import { technician } from './technician.js';

export const MAINTENANCE_HELP = `Usage: edge-agent maintenance --minutes N [--config FILE] [--json]

Announces a maintenance window: opening the cabinet door during it raises no
tamper alert. Goes through admin.sock and raises a technician.command event
naming you (SUDO_USER or your login name).`;

export async function maintenanceCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { minutes: { type: 'string' } });
  if (values.help) {
    println(io.stdout, MAINTENANCE_HELP);
    return ExitCode.Ok;
  }
  const minutes = Number(values.minutes);
  if (!values.minutes || !Number.isInteger(minutes) || minutes < 1 || minutes > 1440)
    throw new UsageError('--minutes must be a whole number from 1 to 1440');
  const cfg = configFrom(values.config, io.env);
  const r = (await request(cfg.sockets.admin, 'maintenance', {
    technician: technician(io.env),
    minutes,
  })) as { until: string };
  println(io.stdout, values.json ? JSON.stringify(r) : `maintenance window announced until ${r.until}`);
  return ExitCode.Ok;
}
