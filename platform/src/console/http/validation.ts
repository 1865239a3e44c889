import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { badRequest, type HttpError } from './errors.js';

const A: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  array: 'an array',
  object: 'a JSON object',
};

/**
 * fastify's `schemaErrorFormatter`: the first JSON-schema violation (ajv stops there) as a
 * 400 naming the field and the reason in words. A `pattern`'s reason is its schema's
 * `description` (ajv runs verbose for it).
 */
export function schemaError(errors: FastifySchemaValidationError[], dataVar: string): HttpError {
  const e = errors[0] as FastifySchemaValidationError & { parentSchema?: { description?: string } };
  const p = e.params as Record<string, unknown>;
  const top = e.instancePath.split('/').filter(Boolean)[0];
  const field = top ?? (dataVar === 'body' ? 'body' : dataVar);
  switch (e.keyword) {
    case 'required':
      return badRequest(String(p.missingProperty), 'is required');
    case 'additionalProperties':
      return badRequest(String(p.additionalProperty), 'unknown field');
    case 'type':
      return badRequest(field, `must be ${A[String(p.type)] ?? String(p.type)}`);
    case 'minLength':
      return badRequest(field, `must be at least ${p.limit} characters`);
    case 'maxLength':
      return badRequest(field, `must be at most ${p.limit} characters`);
    case 'enum':
      return badRequest(field, `must be one of ${(p.allowedValues as unknown[]).join(', ')}`);
    case 'minimum':
      return badRequest(field, `must be at least ${p.limit}`);
    case 'maximum':
      return badRequest(field, `must be at most ${p.limit}`);
    case 'minItems':
    case 'maxItems':
      return badRequest(
        field,
        `must hold ${e.keyword === 'minItems' ? 'at least' : 'at most'} ${p.limit} items`,
      );
    case 'format':
      return badRequest(
        field,
        p.format === 'date-time'
          ? 'must be an RFC 3339 date-time with a zone (2025-01-31T12:00:00Z)'
          : `must be a ${p.format}`,
      );
    case 'pattern':
      return badRequest(
        field,
        e.parentSchema?.description ? `must be ${e.parentSchema.description}` : `must match ${p.pattern}`,
      );
    default:
      return badRequest(field, e.message ?? 'is not valid');
  }
}

/** A path parameter that is a positive integer id (params are strings: ajv coerces nothing here). */
export const ID_PARAMS = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,14}$', description: 'a positive integer id' } },
} as const;

const DIGITS = { type: 'string', pattern: '^[0-9]{1,15}$', description: 'an integer' } as const;
/** A querystring schema of optional integer parameters (bounded by `queryInt`). */
export const intQuery = (...names: string[]) => ({
  type: 'object',
  properties: Object.fromEntries(names.map((n) => [n, DIGITS])),
});

/** An integer query parameter already shaped by `intQuery`, bounded; a 400 naming it otherwise. */
export function queryInt(
  v: string | undefined,
  name: string,
  dflt: number,
  min: number,
  max: number,
): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (n < min || n > max) throw badRequest(name, `must be an integer between ${min} and ${max}`);
  return n;
}

/** A gateway id: the registry's device id syntax. */
export const DEVICE_ID = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  description: 'a device id (letters, digits, . _ -, at most 64)',
} as const;

/** A gateway id path parameter. */
export const DEVICE_PARAMS = { type: 'object', required: ['id'], properties: { id: DEVICE_ID } } as const;
