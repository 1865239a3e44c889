import type { Stream } from '../../agent/src/core/index.js';
import type { DrainClient } from '../../agent/src/sync/index.js';
import { decodeBatch, decodeEnvelope } from '../../agent/src/telemetry/index.js';

type Cb = (err?: Error, packet?: unknown) => void;

/** One QoS 1 publish the stand-in broker has not answered yet. */
export interface Outstanding {
  id: number;
  stream: Stream;
  seq: number;
  cb: Cb;
  envelope: Buffer;
}

/**
 * A stand-in for mqtt.js's client over a broker session, shaped like mqtt.js
 * where the drain relies on it: `outgoing` by message id, `removeOutgoingMessage`
 * answering "Message removed", `end()` flushing every pending publish with an
 * error while `disconnecting` is set, and (the livelock of issue #12) a mode
 * that fails every publish synchronously. Time and the broker are the only fakes.
 */
export class FakeSession implements DrainClient {
  connected = true;
  disconnecting = false;
  /** Fail each publish synchronously, as mqtt.js does while it ends. */
  failSync = false;
  readonly outgoing: Record<number, Outstanding> = {};
  publishes = 0;
  private nextId = 1;

  constructor(private readonly onPublish: (o: Outstanding) => void) {}

  publish(_topic: string, payload: Buffer, _opts: { qos: 1 }, cb: Cb): unknown {
    this.publishes++;
    if (this.disconnecting || this.failSync || !this.connected) {
      cb(new Error('client disconnecting'));
      return this;
    }
    // A broker does not check signatures; the test's collector decodes what it needs.
    const b = decodeBatch(decodeEnvelope(payload).payload);
    const o: Outstanding = { id: this.nextId++, stream: b.stream, seq: b.seq, cb, envelope: payload };
    this.outgoing[o.id] = o;
    this.onPublish(o);
    return this;
  }

  removeOutgoingMessage(id: number): unknown {
    const o = this.outgoing[id];
    if (o) {
      delete this.outgoing[id];
      o.cb(new Error('Message removed'));
    }
    return this;
  }

  /** The broker answers one publish: reason 0 is a PUBACK, 0x80 and above a refusal; `err` a lost session. */
  answer(id: number, reasonCode: number, err?: Error): Outstanding | undefined {
    const o = this.outgoing[id];
    if (!o) return undefined;
    delete this.outgoing[id];
    o.cb(err, err ? undefined : { reasonCode });
    return o;
  }

  ids(): number[] {
    return Object.keys(this.outgoing).map(Number);
  }

  /** `client.end()`: every pending publish fails, synchronously, while the client is still ending. */
  end(): void {
    this.disconnecting = true;
    for (const id of this.ids()) this.answer(id, 0, new Error('Connection closed'));
    this.connected = false;
  }
}

/**
 * Answers every publish with a PUBACK (each handed to `onPuback`) until none is
 * outstanding; returns the most outstanding at once.
 */
export async function pubackAll(
  session: FakeSession,
  onPuback: (o: Outstanding) => void = () => {},
): Promise<number> {
  let most = 0;
  for (let i = 0; i < 100; i++) {
    // The drain yields to the event loop every PUMP_SLICE publishes: let it resume before deciding it is done.
    if (session.ids().length === 0) await new Promise((r) => setImmediate(r));
    if (session.ids().length === 0) break;
    most = Math.max(most, session.ids().length);
    for (const id of session.ids()) {
      const o = session.answer(id, 0);
      if (o) onPuback(o);
    }
  }
  return most;
}
