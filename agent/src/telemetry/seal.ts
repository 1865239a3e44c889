import { createHash, type KeyObject, sign } from 'node:crypto';
import type {
  ChainHead,
  ClockQuality,
  Reading,
  Report,
  SealedBatch,
  SecurityEvent,
  Stream,
  StreamItem,
} from '../core/index.js';
import { encodeBatch, encodeEnvelope } from './codec.js';

/** Who seals, and with what. */
export interface SealContext {
  deviceId: string;
  /** The device's Ed25519 private key. */
  signingKey: KeyObject;
  /** `key_id` of its public half. */
  keyId: string;
  /** Wall-clock stamp for `created_at_ms`. */
  nowMs: number;
  clock: ClockQuality;
}

export const ZERO_HASH: Uint8Array = new Uint8Array(32);

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/**
 * items + chain head → Batch → bytes → Ed25519 signature → Envelope bytes.
 * Pure: the caller commits the returned chain position together with the row.
 */
export function seal(ctx: SealContext, stream: Stream, items: StreamItem[], head: ChainHead): SealedBatch {
  const readings: Reading[] = [];
  const events: SecurityEvent[] = [];
  let report: Report | undefined;
  for (const item of items) {
    if (item.stream !== stream)
      throw new TypeError(`item of stream ${item.stream} in a batch of stream ${stream}`);
    if ('reading' in item) readings.push(item.reading);
    else if ('event' in item) events.push(item.event);
    else {
      if (report) throw new TypeError('a batch carries at most one report');
      report = item.report;
    }
  }
  const seq = head.seq + 1;
  const payload = encodeBatch({
    deviceId: ctx.deviceId,
    stream,
    epoch: head.epoch,
    seq,
    prevHash: head.seq === 0 ? ZERO_HASH : head.prevHash,
    createdAtMs: ctx.nowMs,
    readings,
    events,
    report,
    clock: ctx.clock,
  });
  const signature = new Uint8Array(sign(null, payload, ctx.signingKey));
  return {
    stream,
    epoch: head.epoch,
    seq,
    envelope: encodeEnvelope({ payload, signature, keyId: ctx.keyId }),
    payloadHash: sha256(payload),
    items: items.length,
  };
}
