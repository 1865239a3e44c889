/** An answer other than success, as the client sees it: status, a stable code, and for 400 the field. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly reason: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(field ? `${field}: ${reason}` : reason);
  }

  toJSON(): Record<string, string> {
    return {
      error: this.code,
      ...(this.field !== undefined ? { field: this.field } : {}),
      reason: this.reason,
    };
  }
}

export const badRequest = (field: string, reason: string): HttpError =>
  new HttpError(400, 'BAD_REQUEST', reason, field);
export const notFound = (what: string): HttpError => new HttpError(404, 'NOT_FOUND', `${what} not found`);
