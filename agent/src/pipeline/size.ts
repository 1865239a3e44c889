import type { StreamItem } from '../core/index.js';

/**
 * The collector refuses an envelope over 256 KiB before decoding it (DESIGN.md,
 * telemetry's DEFAULT_MAX_BYTES). A batch whose items would seal above it could
 * never be delivered: it would be sent again for ever and its stream would stall.
 */
export const COLLECTOR_MAX_ENVELOPE_BYTES = 256 * 1024;

/**
 * Room kept for what is not an item: the envelope (signature, key id, tags) and
 * the batch header (device id, seq, epoch, prev_hash, times): about 300 bytes.
 */
export const ENVELOPE_MARGIN_BYTES = 4096;

/** A batch is closed before its items' encoded size passes this. */
export const MAX_BATCH_ITEM_BYTES = COLLECTOR_MAX_ENVELOPE_BYTES - ENVELOPE_MARGIN_BYTES;

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');
/** A length-delimited protobuf field: tag, length varint (≤ 3 bytes below 2 MB), bytes. */
const field = (n: number): number => 4 + n;
const map = (m: Record<string, string>): number =>
  Object.entries(m).reduce((n, [k, v]) => n + field(field(utf8(k)) + field(utf8(v))), 0);

/**
 * `itemSize(item).bytes` without naming the heaviest field: the batcher's hot path
 * (one call per reading) builds no part list and no field name.
 */
export function itemBytes(item: StreamItem): number {
  if ('reading' in item) {
    const r = item.reading;
    const v = r.value;
    const value =
      v.kind === 'text' ? utf8(v.value) : v.kind === 'blob' || v.kind === 'sealed' ? v.value.length : 9;
    let n = 16 + field(utf8(r.sensorId)) + field(utf8(r.unit)) + field(value);
    for (const k in r.labels) n += field(utf8(k) + utf8(r.labels[k]) + 8);
    return n;
  }
  return itemSize(item).bytes;
}

/**
 * An upper bound of one item's encoded size inside a Batch, and the field that
 * weighs most in it (named in the refusal of an item that cannot fit).
 */
export function itemSize(item: StreamItem): { bytes: number; field: string } {
  const parts: [string, number][] = [];
  if ('reading' in item) {
    const r = item.reading;
    const v = r.value;
    const value =
      v.kind === 'text' ? utf8(v.value) : v.kind === 'blob' || v.kind === 'sealed' ? v.value.length : 9;
    parts.push(['sensor', utf8(r.sensorId)], ['unit', utf8(r.unit)], ['value', value]);
    for (const [k, l] of Object.entries(r.labels)) parts.push([`labels.${k}`, utf8(k) + utf8(l) + 8]);
  } else if ('event' in item) {
    const e = item.event;
    parts.push(
      ['type', utf8(e.type)],
      ['subject', utf8(e.subject)],
      ['details', map(e.details)],
      ['times', 40],
    );
  } else {
    const r = item.report;
    parts.push(['kind', utf8(r.kind)], ['contentType', utf8(r.contentType)], ['body', r.body.length]);
  }
  // Each part is its own field (tag + length); 16 more for the tags of numbers and the item's own frame.
  const bytes = parts.reduce((n, [, b]) => n + field(b), 16);
  const biggest = parts.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { bytes, field: biggest[0] };
}
