import { dirname, resolve } from 'node:path';
import type { FieldIssue } from '../core/index.js';
import { ConfigError, crossCheck, parseConfigText, readConfigText, resolvePaths } from './load.js';
import { configSchema } from './schema.js';
import type { AgentConfig } from './types.js';
import { type Schema, validate } from './validate.js';

/** Settings fields a signed remote config may not touch, each as `path: message`. */
export function remoteIssues(
  settings: unknown,
  schema: Schema<unknown> = configSchema as Schema<unknown>,
  path = '',
): FieldIssue[] {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings))
    return [{ path: path || 'body', message: 'must be an object of settings' }];
  const out: FieldIssue[] = [];
  for (const [k, v] of Object.entries(settings)) {
    const p = path ? `${path}.${k}` : k;
    const f = schema.fields && Object.hasOwn(schema.fields, k) ? schema.fields[k] : undefined;
    if (!f) out.push({ path: `body.${p}`, message: 'is not a known field' });
    else if (f.remote) continue;
    else if (f.fields)
      out.push(
        ...remoteIssues(v, f, p).map((i) =>
          i.path.startsWith('body.') ? i : { ...i, path: `body.${i.path}` },
        ),
      );
    else out.push({ path: `body.${p}`, message: 'cannot be set remotely (only on the gateway)' });
  }
  return out;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Objects merge field by field; arrays and values replace. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isObj(base) || !isObj(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  // defineProperty: a key named `__proto__` stays a plain (refused) field instead of replacing the prototype.
  for (const [k, v] of Object.entries(over))
    Object.defineProperty(out, k, {
      value: deepMerge(Object.hasOwn(base, k) ? base[k] : undefined, v),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

/** The local file as written (before defaults), the base that remote settings are laid over. */
export function readRawConfig(file: string): unknown {
  return parseConfigText(file, readConfigText(file));
}

/** Local file + remote settings → the effective config, validated by the one schema. */
export function effectiveConfig(file: string, raw: unknown, settings: unknown): AgentConfig {
  const merged = deepMerge(raw, settings ?? {});
  const r = validate(configSchema, merged);
  if (!r.ok) throw new ConfigError(file, r.issues);
  // The same cross-field rules as the local file (privacy rules, cron expressions, backoff).
  const more = crossCheck(r.value);
  if (more.length > 0) throw new ConfigError(file, more);
  return resolvePaths(r.value, dirname(resolve(file)));
}
