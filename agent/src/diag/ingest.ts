import { type Reading, Stream, type StreamItem } from '../core/index.js';

/** Sensor ids are short printable names (they end up in labels, logs and terminals). */
const SENSOR_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;
const MAX_TEXT = 4096;
const MAX_LABELS = 32;
// Far enough either side of any real reading to catch seconds-vs-milliseconds mistakes.
const MIN_TS = Date.UTC(2000, 0, 1);
const MAX_TS = Date.UTC(2200, 0, 1);

export type IngestResult = { ok: true; item: StreamItem } | { ok: false; error: string };

/**
 * A lone UTF-16 surrogate (JSON allows `"\ud800"`) cannot be encoded as UTF-8: the sealed batch
 * would be refused by every receiver and, never acked, would hold up its stream for good.
 */
const LONE_SURROGATE = /\p{Cs}/u;
const NOT_UNICODE = 'holds a lone UTF-16 surrogate, which is not valid Unicode text';

/** A field name from the sender, quoted and capped unless plain: it goes back to a terminal. */
const fieldName = (k: string): string =>
  /^[A-Za-z0-9_.-]{1,64}$/.test(k) ? k : JSON.stringify(k.slice(0, 64));

const issue = (path: string, message: string): IngestResult => ({ ok: false, error: `${path}: ${message}` });

/**
 * One NDJSON ingest line → a telemetry item, or an error naming the field:
 * `{"sensor":"aq-7","value":12.5,"unit":"ug/m3","ts":1764150000000,"labels":{...}}`.
 */
export function parseIngestLine(line: string, nowMs: number): IngestResult {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return issue('(line)', `not valid JSON (${(e as Error).message.slice(0, 80)})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return issue('(line)', 'must be a JSON object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['sensor', 'value', 'unit', 'ts', 'labels'].includes(k))
      return issue(
        /^[A-Za-z0-9_.-]{1,64}$/.test(k) ? k : JSON.stringify(k.slice(0, 64)),
        'is not a known field',
      );
  }
  if (typeof o.sensor !== 'string' || !SENSOR_ID.test(o.sensor)) {
    return issue(
      'sensor',
      'must be a name of 1-128 letters, digits or ._:@/- starting with a letter or digit',
    );
  }
  let value: Reading['value'];
  if (typeof o.value === 'number') {
    if (!Number.isFinite(o.value)) return issue('value', 'must be a finite number');
    value = { kind: 'number', value: o.value };
  } else if (typeof o.value === 'string') {
    if (o.value.length > MAX_TEXT) return issue('value', `text longer than ${MAX_TEXT} characters`);
    if (LONE_SURROGATE.test(o.value)) return issue('value', NOT_UNICODE);
    value = { kind: 'text', value: o.value };
  } else if (typeof o.value === 'boolean') {
    value = { kind: 'flag', value: o.value };
  } else {
    return issue('value', o.value === undefined ? 'is required' : 'must be a number, string or boolean');
  }
  if (o.unit !== undefined && (typeof o.unit !== 'string' || o.unit.length > 32))
    return issue('unit', 'must be a string of at most 32 characters');
  if (typeof o.unit === 'string' && LONE_SURROGATE.test(o.unit)) return issue('unit', NOT_UNICODE);
  let ts = nowMs;
  if (o.ts !== undefined) {
    if (typeof o.ts !== 'number' || !Number.isSafeInteger(o.ts))
      return issue('ts', 'must be an integer (milliseconds since 1970)');
    if (o.ts < MIN_TS || o.ts > MAX_TS) return issue('ts', `${o.ts} is not a plausible time in milliseconds`);
    ts = o.ts;
  }
  const labels: Record<string, string> = {};
  if (o.labels !== undefined) {
    if (typeof o.labels !== 'object' || o.labels === null || Array.isArray(o.labels))
      return issue('labels', 'must be an object of strings');
    const entries = Object.entries(o.labels as Record<string, unknown>);
    if (entries.length > MAX_LABELS) return issue('labels', `at most ${MAX_LABELS} labels`);
    for (const [k, lv] of entries) {
      if (k.length === 0 || k.length > 64)
        return issue('labels', `label name ${JSON.stringify(k.slice(0, 70))} must have 1-64 characters`);
      if (typeof lv !== 'string' || lv.length > 256)
        return issue(`labels.${fieldName(k)}`, 'must be a string of at most 256 characters');
      if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(lv))
        return issue(`labels.${fieldName(k)}`, NOT_UNICODE);
      labels[k] = lv;
    }
  }
  return {
    ok: true,
    item: {
      stream: Stream.TELEMETRY,
      reading: { sensorId: o.sensor, tsMs: ts, unit: (o.unit as string | undefined) ?? '', value, labels },
    },
  };
}
