import { configPath, openLogFile } from '../config/index.js';
import { createLogger, ExitCode, systemClock, systemRandom } from '../core/index.js';
import { installCrashHandlers } from '../daemon/index.js';
import { SystemdNotifier } from '../diag/index.js';
import { Supervisor } from '../supervisor/index.js';
import { configFrom, parse } from './args.js';
import { type Io, println } from './io.js';

export const RUN_HELP = `Usage: edge-agent run [--config FILE]

Runs the agent daemon: ingest on agent.sock, batching, sealing and the SQLite
outbox. Logs JSON lines (pino) to stderr. SIGTERM or SIGINT stop it cleanly
(everything accepted is committed) with exit code 0. An unexpected error is
logged and ends it with exit code 2, for systemd to restart it.`;

export async function runCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) {
    println(io.stdout, RUN_HELP);
    return ExitCode.Ok;
  }
  const cfg = configFrom(values.config, io.env);
  const log = createLogger({
    level: cfg.log.level,
    fd: cfg.log.file ? openLogFile(cfg.log.file) : undefined,
  });
  installCrashHandlers(log);
  // The supervisor owns the agent: a signed remote config rebuilds it, and may roll it back.
  const supervisor = new Supervisor(configPath(values.config, io.env), {
    clock: systemClock,
    random: systemRandom,
    log,
  });
  await supervisor.start();
  const systemd = new SystemdNotifier(io.env);
  // WATCHDOG=1 only while the loop answers, the outbox takes commits and the critical services run.
  systemd.ready(() => supervisor.healthy());
  await new Promise<void>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      log.info({ signal: sig }, 'stopping');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    void supervisor.stopRequested.then((why) => {
      log.warn({ why }, 'stopping');
      resolve();
    });
  });
  systemd.stopping();
  await supervisor.stop();
  log.info('stopped cleanly');
  return ExitCode.Ok;
}
