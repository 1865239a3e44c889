import { pino } from 'pino';

export type Logger = pino.Logger;

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

/** The root logger; each module takes a child with `{ module }`. */
export function createLogger(
  opts: { level?: string; destination?: pino.DestinationStream; file?: string } = {},
): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    opts.destination ?? pino.destination({ dest: opts.file ?? 2, sync: true, mkdir: true }),
  );
}

/** A logger that drops everything (tests, one-shot commands). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
