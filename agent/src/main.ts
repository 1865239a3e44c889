import { COMMANDS, type Io, println, processIo, UsageError } from './cli/index.js';
import { ConfigError } from './config/load.js';
import { AgentError, ExitCode } from './core/errors.js';
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
  identity rotate          renew the TLS certificate now, via admin.sock
  config check             validate the config file and print it resolved
  privacy report           which privacy rules apply to which sensors
  audit [--root DIR]       security posture against ETSI EN 303 645 / IEC 62443-4-2
  inventory [--root DIR]   attached sensors with verdicts from the signed firmware profiles
  sbom [--root DIR]        the gateway's own software (CycloneDX) and its known vulnerabilities
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

Exit codes: 0 done and all good; 1 done, with findings; 2 could not do the job.
With --json a failure is {"error": {"code", "message"}} on stdout, with the same exit code.`;

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
  const load = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!load) {
    if (rest.includes('--json'))
      return reportFailure(cmd, new UsageError(`unknown command "${cmd}"`), true, io);
    println(io.stderr, `edge-agent: unknown command "${cmd}"\n\n${HELP}`);
    return ExitCode.Failed;
  }
  try {
    return await (await load())(rest, io);
  } catch (e) {
    return reportFailure(cmd, e, rest.includes('--json'), io);
  }
}

/** The one place a failed command is told to the user: one line (or one JSON object), never a stack. */
function reportFailure(cmd: string, e: unknown, json: boolean, io: Io): number {
  const code = e instanceof AgentError ? e.code : systemCode(e);
  const message = e instanceof Error ? e.message : String(e);
  if (json) {
    const extra = e instanceof ConfigError ? { file: e.file, issues: e.issues } : {};
    println(io.stdout, JSON.stringify({ error: { code, message, ...extra } }, null, 2));
  } else if (e instanceof ConfigError) println(io.stderr, `edge-agent: ${message}`);
  else if (e instanceof UsageError) println(io.stderr, `edge-agent ${cmd}: ${message}`);
  else if (e instanceof AgentError) println(io.stderr, `edge-agent ${cmd}: ${message} [${code}]`);
  else println(io.stderr, `edge-agent ${cmd}: unexpected error: ${message} [${code}]`);
  return ExitCode.Failed;
}

/** Node's own errors (EACCES, ENOSPC...) carry their code; anything else is INTERNAL. */
const systemCode = (e: unknown): string =>
  typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : 'INTERNAL';

// Run when executed (bin/edge-agent.js imports this module). An error thrown from a callback of
// a short-lived command (a socket, a child process) still reaches the user as one line; the
// daemon's are its supervisor's to log, with their stack, in the JSON log.
const argv = process.argv.slice(2);
if (argv[0] !== 'run') {
  const last = (e: unknown) => {
    process.exitCode = reportFailure(argv[0] ?? 'edge-agent', e, argv.includes('--json'), processIo());
    process.exit();
  };
  process.on('uncaughtException', last);
  process.on('unhandledRejection', last);
}
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`edge-agent: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = ExitCode.Failed;
  },
);
