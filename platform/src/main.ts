import { type Io, println, processIo } from '../../agent/src/cli/io.js';
import { AGENT_VERSION } from '../../agent/src/version.js';
import { UsageError } from './cli/args.js';
import { collectorCommand } from './cli/collector.js';
import { consoleCommand } from './cli/console.js';
import { devicesCommand } from './cli/devices.js';
import { migrateCommand } from './cli/migrate.js';
import { usersCommand } from './cli/users.js';

export const HELP = `edge-platform ${AGENT_VERSION}: the city's side of edge-agent

Usage: edge-platform <command> [options]

Commands:
  collector             verify, store once and ack the agents' batches (run N of them)
  devices add|list|revoke|import
                        the registry: devices, signing keys, sites, groups
  migrate [--status]    apply the store's schema migrations
  console               the security console: JSON API over HTTPS (--cert, --key, --listen)
  users add|list        operator accounts of the console (viewer, operator, admin)

Options (every command):
  --store URL     postgres://USER@HOST/DB or pglite:DIR (default pglite:./platform-data)
  --no-migrate    do not migrate the store at start
  --json          machine-readable output
  -h, --help      help for a command
  --version       print the version

Exit codes: 0 done; 2 could not do the job.
With --json a failure is {"error": {"code", "message"}} on stdout, with the same exit code.`;

const COMMANDS: Record<string, (args: string[], io: Io) => Promise<number>> = {
  collector: collectorCommand,
  devices: devicesCommand,
  migrate: migrateCommand,
  console: consoleCommand,
  users: usersCommand,
};

export async function main(argv: string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    println(cmd === undefined ? io.stderr : io.stdout, HELP);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === 'version') {
    println(io.stdout, AGENT_VERSION);
    return 0;
  }
  const run = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  try {
    if (!run) throw new UsageError(`unknown command "${cmd}" (collector, devices, migrate, console, users)`);
    return await run(rest, io);
  } catch (e) {
    return reportFailure(cmd, e, argv.includes('--json'), io);
  }
}

/** One line (or one JSON object) per failure, never a stack trace. */
function reportFailure(cmd: string, e: unknown, json: boolean, io: Io): number {
  const code =
    typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : 'INTERNAL';
  const message = e instanceof Error ? e.message : String(e);
  if (json) println(io.stdout, JSON.stringify({ error: { code, message } }));
  else println(io.stderr, `edge-platform ${cmd}: ${message} [${code}]`);
  return 2;
}

const argv = process.argv.slice(2);
const io = processIo();
const last = (e: unknown) => {
  process.exitCode = reportFailure(argv[0] ?? 'edge-platform', e, argv.includes('--json'), io);
  process.exit();
};
process.on('uncaughtException', last);
process.on('unhandledRejection', last);
main(argv, io).then(
  (code) => {
    process.exitCode = code;
    // PGlite and pg leave nothing running after stop(); an open MQTT socket would be a bug, not a reason to hang.
    if (argv[0] !== 'collector' && argv[0] !== 'console') setImmediate(() => process.exit());
  },
  (e) => last(e),
);
