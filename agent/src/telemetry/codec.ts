import type { ClockQuality, Reading, Report, SecurityEvent, Severity, Stream } from '../core/index.js';
import { edge } from '../gen/edge.js';
import { VerifyError } from './errors.js';
import { checkWire, DEFAULT_MAX_BYTES } from './wire.js';

const pb = edge.v1;

/**
 * protobufjs decodes 64-bit fields as Long objects whenever the `long` package is
 * installed, whatever the generator's flags say; the contract wants plain numbers.
 */
function num(v: number | { toNumber(): number; high: number; low: number }, field: string): number {
  if (typeof v === 'number') return v;
  const n = v.toNumber();
  if (!Number.isSafeInteger(n)) throw new VerifyError('BAD_ENCODING', `${field} ${n} is beyond 2^53`);
  return n;
}
type Num = Parameters<typeof num>[0];

/** A batch as the receiver sees it after verification. */
export interface DecodedBatch {
  deviceId: string;
  stream: Stream;
  epoch: number;
  seq: number;
  prevHash: Uint8Array;
  createdAtMs: number;
  readings: Reading[];
  events: SecurityEvent[];
  report?: Report;
  clock: ClockQuality | 0;
}

/** Batch fields before encoding. */
export type BatchFields = DecodedBatch;

/** Stream-acknowledgement from the collector. */
export interface AckMessage {
  deviceId: string;
  stream: Stream;
  epoch: number;
  upToSeq: number;
}

function readingToPb(r: Reading): edge.v1.Reading.$Properties {
  const m: edge.v1.Reading.$Properties = {
    sensorId: r.sensorId,
    tsMs: r.tsMs,
    unit: r.unit,
    labels: r.labels,
  };
  m[r.value.kind] = r.value.value as never;
  return m;
}

function readingFromPb(m: edge.v1.Reading): Reading {
  const kind = m.value;
  if (!kind) throw new VerifyError('BAD_ENCODING', `reading of ${m.sensorId} has no value`);
  return {
    sensorId: m.sensorId,
    tsMs: num(m.tsMs as Num, 'ts_ms'),
    unit: m.unit,
    value: { kind, value: m[kind] } as Reading['value'],
    labels: { ...m.labels },
  };
}

function eventFromPb(m: edge.v1.SecurityEvent): SecurityEvent {
  const e: SecurityEvent = {
    type: m.type,
    severity: m.severity as Severity,
    tsMs: num(m.tsMs as Num, 'ts_ms'),
    subject: m.subject,
    details: { ...m.details },
  };
  if (m.count) e.count = m.count;
  if (m.firstTsMs) e.firstTsMs = num(m.firstTsMs as Num, 'first_ts_ms');
  if (m.lastTsMs) e.lastTsMs = num(m.lastTsMs as Num, 'last_ts_ms');
  return e;
}

/** Serializes a Batch: these bytes are what gets signed. */
export function encodeBatch(b: BatchFields): Uint8Array {
  return pb.Batch.encode({
    deviceId: b.deviceId,
    stream: b.stream,
    epoch: b.epoch,
    seq: b.seq,
    prevHash: b.prevHash,
    createdAtMs: b.createdAtMs,
    readings: b.readings.map(readingToPb),
    events: b.events.map((e) => ({ ...e })),
    report: b.report ? { ...b.report } : null,
    clock: b.clock,
  }).finish();
}

/** Decodes a Batch payload after its size and nesting were checked. */
export function decodeBatch(bytes: Uint8Array, maxBytes = DEFAULT_MAX_BYTES): DecodedBatch {
  checkWire(bytes, maxBytes);
  let m: edge.v1.Batch;
  try {
    m = pb.Batch.decode(bytes);
  } catch (e) {
    throw new VerifyError('BAD_ENCODING', `batch does not decode: ${(e as Error).message}`, { cause: e });
  }
  const out: DecodedBatch = {
    deviceId: m.deviceId,
    stream: m.stream as Stream,
    epoch: num(m.epoch as Num, 'epoch'),
    seq: num(m.seq as Num, 'seq'),
    prevHash: m.prevHash,
    createdAtMs: num(m.createdAtMs as Num, 'created_at_ms'),
    readings: m.readings.map((r) => readingFromPb(r as edge.v1.Reading)),
    events: m.events.map((e) => eventFromPb(e as edge.v1.SecurityEvent)),
    clock: m.clock as ClockQuality | 0,
  };
  if (m.report) out.report = { ...(m.report as Report) };
  return out;
}

/** Envelope fields. */
export interface EnvelopeFields {
  payload: Uint8Array;
  signature: Uint8Array;
  keyId: string;
}

export function encodeEnvelope(e: EnvelopeFields): Uint8Array {
  return pb.Envelope.encode(e).finish();
}

/**
 * Decodes an Envelope strictly: unknown fields or a non-canonical encoding are
 * refused, so no two byte strings pass as the same envelope.
 */
export function decodeEnvelope(bytes: Uint8Array, maxBytes = DEFAULT_MAX_BYTES): EnvelopeFields {
  checkWire(bytes, maxBytes);
  let m: edge.v1.Envelope;
  try {
    m = pb.Envelope.decode(bytes);
  } catch (e) {
    throw new VerifyError('BAD_ENCODING', `envelope does not decode: ${(e as Error).message}`, { cause: e });
  }
  const fields = { payload: m.payload, signature: m.signature, keyId: m.keyId };
  if (!Buffer.from(encodeEnvelope(fields)).equals(Buffer.from(bytes))) {
    throw new VerifyError('BAD_ENCODING', 'envelope is not canonically encoded');
  }
  return fields;
}

export function encodeAck(a: AckMessage): Uint8Array {
  return pb.Ack.encode(a).finish();
}

export function decodeAck(bytes: Uint8Array): AckMessage {
  checkWire(bytes, 1024);
  try {
    const m = pb.Ack.decode(bytes);
    if (m.$unknowns) throw new Error('unknown fields');
    return {
      deviceId: m.deviceId,
      stream: m.stream as Stream,
      epoch: num(m.epoch as Num, 'epoch'),
      upToSeq: num(m.upToSeq as Num, 'up_to_seq'),
    };
  } catch (e) {
    throw new VerifyError('BAD_ENCODING', `ack does not decode: ${(e as Error).message}`, { cause: e });
  }
}
