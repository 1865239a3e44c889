import type { FieldIssue } from '../core/index.js';

/**
 * A tiny schema language shared by the config file, OTA documents and firmware
 * profiles: every issue carries the dotted path of the field it concerns.
 */
export interface Schema<T> {
  /** Returns the parsed value, or undefined after pushing at least one issue. */
  parse(value: unknown, path: string, issues: FieldIssue[]): T | undefined;
  /** Value used when the field is absent; undefined means required. */
  readonly fallback?: () => T;
  /** May the field be set by a signed remote config (and does it need a restart)? */
  readonly remote?: 'live' | 'restart';
  /** An object's fields, so remote settings can be checked field by field. */
  readonly fields?: Record<string, Schema<unknown>>;
}

type Opts<T> = { default?: T | (() => T); remote?: 'live' | 'restart' };

function withOpts<T>(s: Schema<T>, o: Opts<T> = {}): Schema<T> {
  const d = o.default;
  const fallback =
    d === undefined ? undefined : typeof d === 'function' ? (d as () => T) : () => structuredClone(d as T);
  return { parse: s.parse, fallback, remote: o.remote };
}

const show = (v: unknown): string => {
  const s =
    typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null
      ? JSON.stringify(v)
      : Array.isArray(v)
        ? 'an array'
        : typeof v;
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
};

export function str(
  o: Opts<string> & { pattern?: RegExp; hint?: string; min?: number; max?: number } = {},
): Schema<string> {
  return withOpts(
    {
      parse(v, path, issues) {
        if (typeof v !== 'string')
          return void issues.push({ path, message: `must be a string, got ${show(v)}` });
        if (o.min !== undefined && v.length < o.min)
          return void issues.push({ path, message: `must have at least ${o.min} character(s)` });
        if (o.max !== undefined && v.length > o.max)
          return void issues.push({ path, message: `must have at most ${o.max} characters` });
        if (o.pattern && !o.pattern.test(v)) {
          return void issues.push({ path, message: `${show(v)} ${o.hint ?? `does not match ${o.pattern}`}` });
        }
        return v;
      },
    },
    o,
  );
}

export function int(o: Opts<number> & { min?: number; max?: number } = {}): Schema<number> {
  return withOpts(
    {
      parse(v, path, issues) {
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
          return void issues.push({ path, message: `must be an integer, got ${show(v)}` });
        }
        if (o.min !== undefined && v < o.min)
          return void issues.push({ path, message: `must be at least ${o.min}, got ${v}` });
        if (o.max !== undefined && v > o.max)
          return void issues.push({ path, message: `must be at most ${o.max}, got ${v}` });
        return v;
      },
    },
    o,
  );
}

export function num(o: Opts<number> & { min?: number; max?: number } = {}): Schema<number> {
  return withOpts(
    {
      parse(v, path, issues) {
        if (typeof v !== 'number' || !Number.isFinite(v))
          return void issues.push({ path, message: `must be a number, got ${show(v)}` });
        if (o.min !== undefined && v < o.min)
          return void issues.push({ path, message: `must be at least ${o.min}, got ${v}` });
        if (o.max !== undefined && v > o.max)
          return void issues.push({ path, message: `must be at most ${o.max}, got ${v}` });
        return v;
      },
    },
    o,
  );
}

export function bool(o: Opts<boolean> = {}): Schema<boolean> {
  return withOpts(
    {
      parse(v, path, issues) {
        if (typeof v !== 'boolean')
          return void issues.push({ path, message: `must be true or false, got ${show(v)}` });
        return v;
      },
    },
    o,
  );
}

export function oneOf<const V extends string | number>(values: readonly V[], o: Opts<V> = {}): Schema<V> {
  return withOpts(
    {
      parse(v, path, issues) {
        if (!values.includes(v as V)) {
          return void issues.push({
            path,
            message: `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${show(v)}`,
          });
        }
        return v as V;
      },
    },
    o,
  );
}

export function arr<T>(item: Schema<T>, o: Opts<T[]> & { max?: number } = {}): Schema<T[]> {
  return withOpts(
    {
      parse(v, path, issues) {
        if (!Array.isArray(v)) return void issues.push({ path, message: `must be an array, got ${show(v)}` });
        if (o.max !== undefined && v.length > o.max)
          return void issues.push({ path, message: `must have at most ${o.max} entries` });
        const before = issues.length;
        const out = v.map((x, i) => item.parse(x, `${path}[${i}]`, issues));
        return issues.length === before ? (out as T[]) : undefined;
      },
    },
    o,
  );
}

export type Shape<T> = { [K in keyof T]-?: Schema<T[K]> };

/** An object with known fields only: an unknown key is an error (it is usually a typo). */
export function obj<T extends object>(shape: Shape<T>, o: Opts<T> = {}): Schema<T> {
  const fields = shape as Record<string, Schema<unknown>>;
  const node: Schema<T> = {
    parse(v, path, issues) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        return void issues.push({ path: path || '(root)', message: `must be an object, got ${show(v)}` });
      }
      const input = v as Record<string, unknown>;
      const before = issues.length;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(input)) {
        // Own properties only: `__proto__` or `constructor` must not pass as a known field.
        if (!Object.hasOwn(fields, k)) issues.push({ path: join(path, k), message: 'is not a known field' });
      }
      for (const [k, s] of Object.entries(fields)) {
        const p = join(path, k);
        if (input[k] === undefined) {
          if (s.fallback) out[k] = s.fallback();
          else if (!isOptional(s)) issues.push({ path: p, message: 'is required' });
          continue;
        }
        out[k] = s.parse(input[k], p, issues);
      }
      return issues.length === before ? (out as T) : undefined;
    },
  };
  // An object whose every field has a default may itself be omitted.
  const allDefault = Object.values(fields).every((s) => s.fallback || isOptional(s));
  const made = withOpts(
    node,
    o.default !== undefined || !allDefault ? o : { ...o, default: () => node.parse({}, '', []) as T },
  );
  return { ...made, fields };
}

const OPTIONAL = new WeakSet<Schema<unknown>>();
const isOptional = (s: Schema<unknown>): boolean => OPTIONAL.has(s);

/** A field that may be absent (its value is then undefined). */
export function optional<T>(s: Schema<T>): Schema<T | undefined> {
  const o: Schema<T | undefined> = { parse: s.parse, remote: s.remote, fields: s.fields };
  OPTIONAL.add(o as Schema<unknown>);
  return o;
}

const join = (path: string, k: string): string => (path ? `${path}.${k}` : k);

/** Runs a schema; returns the value or the list of issues. */
export function validate<T>(
  schema: Schema<T>,
  value: unknown,
): { ok: true; value: T } | { ok: false; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const out = schema.parse(value, '', issues);
  return issues.length === 0 ? { ok: true, value: out as T } : { ok: false, issues };
}
