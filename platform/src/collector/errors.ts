export type CollectorErrorCode = 'BROKER_UNREACHABLE' | 'NOT_STARTED';

export class CollectorError extends Error {
  override readonly name = 'CollectorError';
  constructor(
    readonly code: CollectorErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
