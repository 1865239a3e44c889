import { ExitCode } from '../core/index.js';
import { request } from '../diag/index.js';
import { configFrom, parse } from './args.js';
import { type Io, println } from './io.js';
import { technician } from './technician.js';

export const SYNC_NOW_HELP = `Usage: edge-agent sync-now [--config FILE] [--json]

Forces a sync: everything not yet acked by the collector is due again and the
drain starts at once (through admin.sock; raises a technician.command event
naming you).`;

export async function syncNowCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) {
    println(io.stdout, SYNC_NOW_HELP);
    return ExitCode.Ok;
  }
  const cfg = configFrom(values.config, io.env);
  const r = (await request(cfg.sockets.admin, 'sync-now', { technician: technician(io.env) })) as {
    connected: boolean;
    link: string;
  };
  println(
    io.stdout,
    values.json
      ? JSON.stringify(r)
      : r.connected
        ? 'sync started: the backlog is being sent'
        : `sync requested; the link is ${r.link}: it goes out once connected`,
  );
  return ExitCode.Ok;
}
