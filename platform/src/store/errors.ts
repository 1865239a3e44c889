/** Why the store refused or failed; `code` is stable for scripts and `--json`. */
export type StoreErrorCode =
  | 'BAD_STORE_URL'
  | 'STORE_UNAVAILABLE'
  | 'MIGRATION_FAILED'
  | 'SCHEMA_TOO_NEW'
  | 'SCHEMA_NOT_MIGRATED'
  | 'UNKNOWN_DEVICE'
  | 'BAD_SETTING'
  | 'BAD_CHANNEL';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
