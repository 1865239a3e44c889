import type { FastifyError } from 'fastify';
import { ConsoleError } from '../errors.js';

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

/** fastify's and its plugins' refusals, in the console's words. */
const FASTIFY: Record<string, () => HttpError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () => badRequest('body', 'is not valid JSON'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => badRequest('body', 'is empty (send {} for no fields)'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => badRequest('content-type', 'must be application/json'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => badRequest('content-length', 'does not match the body'),
  FST_ERR_CTP_BODY_TOO_LARGE: () => new HttpError(413, 'TOO_LARGE', 'request body too large'),
  FST_CSRF_MISSING_SECRET: () => new HttpError(403, 'CSRF', 'missing or wrong X-CSRF-Token header'),
  FST_CSRF_INVALID_TOKEN: () => new HttpError(403, 'CSRF', 'missing or wrong X-CSRF-Token header'),
};

/**
 * What a failed request answers, or null for a fault of ours (a 500, logged; its message
 * never reaches the client). A ConsoleError's field is what precedes its first colon.
 */
export function toHttpError(err: unknown): HttpError | null {
  if (err instanceof HttpError) return err;
  if (err instanceof ConsoleError) {
    if (err.code === 'NOT_FOUND') return new HttpError(404, 'NOT_FOUND', err.message);
    if (err.code === 'BAD_TRANSITION') return new HttpError(409, 'BAD_TRANSITION', err.message);
    const m = /^([A-Za-z]+): (.*)$/s.exec(err.message);
    return badRequest(m ? m[1] : 'body', m ? m[2] : err.message);
  }
  const f = err as Partial<FastifyError> | undefined;
  if (f?.code !== undefined && f.code in FASTIFY) return FASTIFY[f.code]();
  // fastify's other refusals (a malformed URL, a bad header) are the client's; their text names no internals.
  if (f?.statusCode !== undefined && f.statusCode >= 400 && f.statusCode < 500)
    return new HttpError(f.statusCode, 'BAD_REQUEST', f.message ?? 'bad request');
  return null;
}
