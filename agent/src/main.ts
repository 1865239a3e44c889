import {
  auditCommand,
  configCommand,
  doctorCommand,
  enrollCommand,
  type Io,
  identityCommand,
  ingestCommand,
  integrityCommand,
  inventoryCommand,
  logsCommand,
  maintenanceCommand,
  println,
  privacyCommand,
  processIo,
  runCommand,
  statusCommand,
  syncNowCommand,
  UsageError,
  wipeCommand,
} from './cli/index.js';
import { ConfigError } from './config/index.js';
import { AgentError, ExitCode } from './core/index.js';
import { AGENT_VERSION } from './version.js';

export const HELP = `edge-agent ${AGENT_VERSION}: security agent for smart-city IoT gateways

Usage: edge-agent <command> [options]

Commands:
  run                      run the daemon: ingest, batch, seal, buffer, sync, monitor
  enroll                   commission the gateway: identity, certificate check, connection test, report
  ingest                   send NDJSON readings from stdin to the running agent
  status                   buffer and chain state (from the daemon, or the data dir if stopped)
  identity init [--force]  create the signing key, TLS key and CSR
  identity show            print the public identity for the platform's registry
  config check             validate the config file and print it resolved
  privacy report           which privacy rules apply to which sensors
  audit [--root DIR]       security posture against ETSI EN 303 645 / IEC 62443-4-2
  inventory [--root DIR]   attached sensors with verdicts from the signed firmware profiles
  integrity baseline       record the signed file baseline
  integrity verify         compare the gateway with its baseline
  logs [-f]                the agent's recent log, readable
  doctor                   check config, keys, certificate, network, TLS, MQTT, clock, disk, buffer
  maintenance --minutes N  announce a maintenance window (no door alert), via admin.sock
  sync-now                 send everything not yet acked now, via admin.sock
  wipe [--yes]             erase the buffer, the pseudonymisation key and the device keys

Options (every command):
  --config FILE   config file (default: $EDGE_AGENT_CONFIG, then /etc/edge-agent/config.json)
  --json          machine-readable output
  -h, --help      help for a command
  --version       print the version

Exit codes: 0 done and all good; 1 done, with findings; 2 could not do the job.`;

const COMMANDS: Record<string, (args: string[], io: Io) => Promise<number>> = {
  run: runCommand,
  ingest: ingestCommand,
  status: statusCommand,
  identity: identityCommand,
  config: configCommand,
  privacy: privacyCommand,
  audit: auditCommand,
  integrity: integrityCommand,
  inventory: inventoryCommand,
  logs: logsCommand,
  doctor: doctorCommand,
  enroll: enrollCommand,
  maintenance: maintenanceCommand,
  wipe: wipeCommand,
  'sync-now': syncNowCommand,
};

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    println(io.stdout, HELP);
    return cmd === undefined ? ExitCode.Failed : ExitCode.Ok;
  }
  if (cmd === '--version' || cmd === 'version') {
    println(io.stdout, AGENT_VERSION);
    return ExitCode.Ok;
  }
  const run = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!run) {
    println(io.stderr, `edge-agent: unknown command "${cmd}"\n\n${HELP}`);
    return ExitCode.Failed;
  }
  try {
    return await run(rest, io);
  } catch (e) {
    if (e instanceof ConfigError) println(io.stderr, `edge-agent: ${e.message}`);
    else if (e instanceof UsageError) println(io.stderr, `edge-agent ${cmd}: ${e.message}`);
    else if (e instanceof AgentError) println(io.stderr, `edge-agent ${cmd}: ${e.message} [${e.code}]`);
    else println(io.stderr, `edge-agent ${cmd}: unexpected error: ${(e as Error).stack ?? String(e)}`);
    return ExitCode.Failed;
  }
}

// Run when executed (bin/edge-agent.js imports this module).
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`edge-agent: ${String(e)}\n`);
    process.exitCode = ExitCode.Failed;
  },
);
