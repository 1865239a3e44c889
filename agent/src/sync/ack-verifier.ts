import { type EventType, type Logger, STREAMS, type Stream, streamName } from '../core/index.js';
import { type AckMessage, KeyRing, openAck, VerifyError } from '../telemetry/index.js';

/** Why an ack deleted nothing; each is counted and named in `sync.ack_rejected`. */
export type AckRejection =
  | 'NO_COLLECTOR_KEY'
  | 'MALFORMED'
  | 'UNKNOWN_KEY'
  | 'BAD_SIGNATURE'
  | 'WRONG_DEVICE'
  | 'UNKNOWN_STREAM'
  | 'WRONG_EPOCH'
  | 'BEYOND_HEAD';

export type AckVerdict =
  | { ok: true; ack: AckMessage; keyId: string }
  | { ok: false; reason: AckRejection; message: string };

export interface AckVerifierOptions {
  deviceId: string;
  /** The current collector role keys (key id → raw Ed25519 key), from the root-signed `keys` document. */
  collectorKeys: () => Map<string, Uint8Array>;
  /** The newest batch this agent has sealed in a stream: its epoch and seq. */
  head: (stream: Stream) => { epoch: number; seq: number };
  /**
   * The last seq sealed in an older `epoch` of `stream` while rows salvaged from
   * it still wait for delivery (a quarantined file), else undefined.
   */
  salvaged?: (stream: Stream, epoch: number) => number | undefined;
  /** Raises a security event (storm-folded by the reporter). */
  raise: (type: EventType, subject: string, details: Record<string, string>) => void;
  log: Logger;
}

/**
 * The gate in front of every delete the collector asks for (DESIGN.md Ack): a
 * signed envelope by a current collector key, naming this device, a known
 * stream, the current epoch (or an old one whose salvaged rows are still
 * held), and no seq beyond what this agent has sealed in that epoch.
 * Anything else deletes nothing: neither the broker nor a client with publish
 * rights on the ack topic can make the agent drop data.
 */
export class AckVerifier {
  /** Rejected acks by reason, for `status`. */
  readonly rejected: Partial<Record<AckRejection, number>> = {};
  private ring = new KeyRing();
  private ringIds = '';

  constructor(private readonly opts: AckVerifierOptions) {}

  /** True once a keys document names at least one collector key (else every row is kept). */
  get hasCollectorKey(): boolean {
    return this.opts.collectorKeys().size > 0;
  }

  /** The ack to apply, or null after counting, logging and raising the rejection. */
  accept(payload: Uint8Array): AckMessage | null {
    const v = this.check(payload);
    if (v.ok) return v.ack;
    const n = (this.rejected[v.reason] ?? 0) + 1;
    this.rejected[v.reason] = n;
    // A flood of forged acks must not flood the journal: the 1st, 2nd, 4th, 8th... of each reason.
    if ((n & (n - 1)) === 0)
      this.opts.log.warn({ reason: v.reason, count: n }, `ack rejected, nothing deleted: ${v.message}`);
    this.opts.raise('sync.ack_rejected', v.reason, { reason: v.reason, message: v.message.slice(0, 200) });
    return null;
  }

  check(payload: Uint8Array): AckVerdict {
    const no = (reason: AckRejection, message: string): AckVerdict => ({ ok: false, reason, message });
    const ring = this.keyRing();
    if (ring.size === 0)
      return no(
        'NO_COLLECTOR_KEY',
        'no keys document names a collector key yet: acks cannot be verified, every row is kept',
      );
    let ack: AckMessage;
    let keyId: string;
    try {
      ({ ack, keyId } = openAck(payload, ring));
    } catch (e) {
      const code = e instanceof VerifyError ? e.code : '';
      const reason = code === 'UNKNOWN_KEY' || code === 'BAD_SIGNATURE' ? code : 'MALFORMED';
      return no(reason, (e as Error).message);
    }
    if (ack.deviceId !== this.opts.deviceId)
      return no('WRONG_DEVICE', `ack names device "${ack.deviceId.slice(0, 64)}", not ${this.opts.deviceId}`);
    if (!STREAMS.includes(ack.stream)) return no('UNKNOWN_STREAM', `ack for unknown stream ${ack.stream}`);
    const current = this.opts.head(ack.stream);
    const name = streamName(ack.stream);
    const old = ack.epoch === current.epoch ? undefined : this.opts.salvaged?.(ack.stream, ack.epoch);
    if (ack.epoch !== current.epoch && old === undefined)
      return no(
        'WRONG_EPOCH',
        `ack for epoch ${ack.epoch} of ${name}, the outbox is at epoch ${current.epoch}`,
      );
    const head = old === undefined ? current : { epoch: ack.epoch, seq: old };
    if (ack.upToSeq > head.seq)
      return no(
        'BEYOND_HEAD',
        `ack up to seq ${ack.upToSeq} of ${name}, but only ${head.seq} were ever sealed in epoch ${head.epoch}`,
      );
    return { ok: true, ack, keyId };
  }

  /** Rebuilt only when the trust store's collector keys change (a rotation). */
  private keyRing(): KeyRing {
    const keys = this.opts.collectorKeys();
    const ids = [...keys.keys()].sort().join(',');
    if (ids !== this.ringIds) {
      const ring = new KeyRing();
      for (const raw of keys.values()) ring.add('collector', raw);
      this.ring = ring;
      this.ringIds = ids;
    }
    return this.ring;
  }
}
