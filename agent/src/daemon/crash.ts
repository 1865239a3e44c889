import { ExitCode, flushLogSync, type Logger } from '../core/index.js';

/** Exit code after an unexpected error: non-zero so systemd restarts the agent (and `agent.crash_loop` counts it). */
export const CRASH_EXIT_CODE = ExitCode.Failed;

/**
 * The daemon's last resort: an unhandled rejection or uncaught exception is
 * logged under `err` (with its stack, in the JSON log only) and ends the process
 * with a non-zero code. Carrying on after one would leave state nobody checked.
 */
export function installCrashHandlers(log: Logger, exit: (code: number) => void = process.exit): () => void {
  const onRejection = (reason: unknown) => {
    log.fatal({ err: reason }, 'unhandled promise rejection: exiting so systemd restarts the agent');
    flushLogSync(log);
    exit(CRASH_EXIT_CODE);
  };
  const onException = (err: Error) => {
    log.fatal({ err }, 'uncaught exception: exiting so systemd restarts the agent');
    flushLogSync(log);
    exit(CRASH_EXIT_CODE);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
