import type { Outbox } from '../../agent/src/buffer/index.js';
import { type Clock, type Stream, silentLogger } from '../../agent/src/core/index.js';
import { AckVerifier, Drain, type DrainOptions, Topics } from '../../agent/src/sync/index.js';
import { sealAck } from '../../agent/src/telemetry/index.js';
import { testSigner } from './keys.js';

type Signer = ReturnType<typeof testSigner>;

/**
 * A drain in ackMode "collector" over `ob` whose acks go through the real
 * AckVerifier, trusting one fresh collector key: `sealed` signs an ack as that
 * collector (or as `by`), `ack` hands one to the drain. Options not given are a
 * small window on a fast link; the broker is the test's stand-in session.
 */
export function collectorDrain(
  ob: Outbox,
  clock: Clock,
  over: Partial<DrainOptions> & { deviceId?: string } = {},
) {
  const { deviceId = 'gw-test', ...opts } = over;
  const collector = testSigner();
  const acks = new AckVerifier({
    deviceId,
    collectorKeys: () => new Map([[collector.keyId, collector.raw]]),
    head: (s) => ob.head(s),
    salvaged: (s, e) => ob.salvage.head(s, e),
    raise: () => {},
    log: silentLogger(),
  });
  const drain = new Drain({
    outbox: ob,
    topics: new Topics('edge/v1', deviceId),
    ackMode: 'collector',
    ackTimeoutMs: 60_000,
    inflight: 8,
    inflightBytes: 1 << 20,
    publishTimeoutMs: 30_000,
    rateLimit: 0,
    verifyAck: (p) => acks.accept(p),
    clock,
    log: silentLogger(),
    ...opts,
  });
  const sealed = (stream: Stream, upToSeq: number, epoch = ob.epoch, by: Signer = collector) =>
    Buffer.from(sealAck({ deviceId, stream, epoch, upToSeq }, by.privateKey, by.keyId));
  const ack = (stream: Stream, upToSeq: number, epoch = ob.epoch, by: Signer = collector) =>
    drain.onAck(sealed(stream, upToSeq, epoch, by));
  return { drain, acks, collector, sealed, ack };
}
