import { badRequest } from './errors.js';

type FieldSpec =
  | {
      type: 'string';
      min?: number;
      max?: number;
      pattern?: RegExp;
      oneOf?: readonly string[];
      optional?: boolean;
    }
  | { type: 'integer'; min?: number; max?: number; optional?: boolean }
  | { type: 'integers'; min?: number; max?: number; maxItems: number; optional?: boolean }
  | { type: 'timestamp'; optional?: boolean };

type ValueOf<S extends FieldSpec> = S extends { type: 'string' }
  ? string
  : S extends { type: 'integer' }
    ? number
    : S extends { type: 'integers' }
      ? number[]
      : number;
type Out<T extends Record<string, FieldSpec>> = {
  [K in keyof T]: T[K] extends { optional: true } ? ValueOf<T[K]> | undefined : ValueOf<T[K]>;
};

/**
 * Checks a JSON body against a flat shape: every field typed and bounded, no unknown
 * field. The first problem becomes a 400 naming the field and the reason.
 */
export function validate<T extends Record<string, FieldSpec>>(body: unknown, shape: T): Out<T> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('body', 'must be a JSON object');
  const obj = body as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (!(k in shape)) throw badRequest(k, 'unknown field');
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(shape)) {
    const v = obj[k];
    if (v === undefined || v === null) {
      if (!s.optional) throw badRequest(k, 'is required');
      continue;
    }
    out[k] = check(k, v, s);
  }
  return out as Out<T>;
}

function check(k: string, v: unknown, s: FieldSpec): unknown {
  switch (s.type) {
    case 'string': {
      if (typeof v !== 'string') throw badRequest(k, 'must be a string');
      if (v.length < (s.min ?? 0)) throw badRequest(k, `must be at least ${s.min ?? 0} characters`);
      if (v.length > (s.max ?? 1000)) throw badRequest(k, `must be at most ${s.max ?? 1000} characters`);
      if (s.oneOf && !s.oneOf.includes(v)) throw badRequest(k, `must be one of ${s.oneOf.join(', ')}`);
      if (s.pattern && !s.pattern.test(v)) throw badRequest(k, `must match ${s.pattern.source}`);
      return v;
    }
    case 'integer':
      return int(k, v, s.min, s.max);
    case 'integers': {
      if (!Array.isArray(v)) throw badRequest(k, 'must be an array of integers');
      if (v.length === 0 || v.length > s.maxItems) throw badRequest(k, `must hold 1 to ${s.maxItems} items`);
      return v.map((x) => int(k, x, s.min, s.max));
    }
    case 'timestamp': {
      const t =
        typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(v)
          ? Date.parse(v)
          : Number.NaN;
      if (!Number.isFinite(t))
        throw badRequest(k, 'must be an RFC 3339 date-time with a zone (2025-01-31T12:00:00Z)');
      return t;
    }
  }
}

function int(k: string, v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw badRequest(k, 'must be an integer');
  if (v < min || v > max) throw badRequest(k, `must be between ${min} and ${max}`);
  return v;
}

/** A path parameter that must be a positive integer id. */
export function idParam(k: string, v: string | undefined): number {
  const n = Number(v);
  if (!/^\d{1,15}$/.test(v ?? '') || n < 1) throw badRequest(k, 'must be a positive integer id');
  return n;
}
