import type { pino as Pino } from 'pino';
import { lazyPackage } from './lazy.js';

export type Logger = Pino.Logger;

/** pino, loaded when the first logger is made: a command that logs nothing does not pay for it. */
const pinoPackage = lazyPackage<{ pino: typeof Pino }>('pino');

/** Paths pino must never print: keys, passwords, tokens, whatever a config holds secret. */
export const REDACT_PATHS = [
  'key',
  'privateKey',
  'password',
  'passphrase',
  'token',
  'secret',
  '*.key',
  '*.privateKey',
  '*.password',
  '*.passphrase',
  '*.token',
  '*.secret',
  'config.mqtt.key',
  'mqtt.key',
];

/**
 * The root logger; each module takes a child with `{ module }`. Lines are
 * written asynchronously: on an SD card a synchronous write can stall the
 * event loop (and the watchdog) for tens of milliseconds (#12). pino flushes
 * what is pending when the process exits; `flushLogSync` does it before a crash exit.
 */
export function createLogger(
  opts: {
    level?: string;
    destination?: Pino.DestinationStream;
    /** An open file descriptor to write to (`openLogFile`); stderr by default. */
    fd?: number;
  } = {},
): Logger {
  const { pino } = pinoPackage();
  return pino(
    {
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    opts.destination ?? pino.destination({ dest: opts.fd ?? 2, sync: false }),
  );
}

/**
 * Writes out every line the logger still holds, synchronously: the last
 * words before `process.exit` must not be lost. Best effort: a destination
 * that cannot flush (not open yet, a closed pipe) is left as it is.
 */
export function flushLogSync(log: Logger): void {
  const dest = (log as unknown as Record<symbol, { flushSync?: () => void } | undefined>)[
    pinoPackage().pino.symbols.streamSym
  ];
  try {
    dest?.flushSync?.();
  } catch {
    // Nothing better to do on the way out.
  }
}

/** A logger that drops everything (tests, one-shot commands). */
export function silentLogger(): Logger {
  return pinoPackage().pino({ level: 'silent' });
}
