/** Why the console refused or failed; `code` is stable for scripts and `--json`. */
export type ConsoleErrorCode =
  | 'BAD_USERNAME'
  | 'BAD_ROLE'
  | 'WEAK_PASSWORD'
  | 'USER_EXISTS'
  | 'UNKNOWN_USER'
  | 'MIGRATION_FAILED'
  | 'BAD_CERTIFICATE'
  | 'NOT_FOUND'
  | 'BAD_TRANSITION'
  | 'BAD_INPUT';

export class ConsoleError extends Error {
  override readonly name = 'ConsoleError';
  constructor(
    readonly code: ConsoleErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
