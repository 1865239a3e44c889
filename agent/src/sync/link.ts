import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { type ConnectionOptions, DEFAULT_CIPHERS } from 'node:tls';
import type { IClientOptions, MqttClient, connect as mqttConnect } from 'mqtt';
import {
  type Clock,
  type Logger,
  lazyPackage,
  type Random,
  type Service,
  type TimerHandle,
} from '../core/index.js';
import { classify, LinkError } from './errors.js';
import { FrameGuard } from './frame-guard.js';

/** mqtt.js on the first connection: `status` reads the sync state without it (#12). */
const mqttPackage = lazyPackage<{ connect: typeof mqttConnect }>('mqtt');

/** Client key, certificate and pinned CA, read afresh for every attempt (certificates rotate). */
export interface TlsMaterial {
  ca: string | Buffer;
  cert: string | Buffer;
  key: string | Buffer;
}

export interface LinkOptions {
  url: string;
  protocolVersion: 4 | 5;
  servername?: string;
  keepaliveS: number;
  insecurePlaintext: boolean;
  clientId: string;
  tls: () => TlsMaterial;
  /** Retained last will (DESIGN.md: status `offline`). */
  will: () => { topic: string; payload: string };
  /** Retained birth message sent on every connect (status `online`). */
  birth: () => { topic: string; payload: string };
  /** Published retained on a clean stop, since the will only fires on an unclean one. */
  goodbye: () => { topic: string; payload: string };
  subscriptions: string[];
  /** Largest packet taken from the broker: announced (MQTT 5 maximumPacketSize) and enforced as bytes arrive. */
  maxPacketBytes: number;
  connectTimeoutMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  clock: Clock;
  random: Random;
  log: Logger;
}

export type LinkState = 'stopped' | 'connecting' | 'connected' | 'waiting';

export interface LinkEvents {
  up: [client: MqttClient, receiveMaximum: number];
  down: [];
  message: [topic: string, payload: Buffer];
}

/**
 * One mutual-TLS MQTT connection, re-made from scratch after every failure with
 * full-jitter exponential backoff. A fresh mqtt.js client per attempt means its
 * offline queue never holds anything: the outbox is the only store.
 */
export class MqttLink extends EventEmitter<LinkEvents> implements Service {
  readonly name = 'mqtt-link';
  state: LinkState = 'stopped';
  lastError: { code: string; message: string; at: number } | null = null;
  connectedAt: number | null = null;
  private client: MqttClient | undefined;
  private timer: TimerHandle | undefined;
  private attempts = 0;
  /** Monotonic start of the last attempt (the floor between two attempts counts from it). */
  private attemptAt = Number.NEGATIVE_INFINITY;
  private readonly where: string;
  private upAt = 0;

  constructor(private readonly opts: LinkOptions) {
    super();
    const u = new URL(opts.url);
    this.where = `${u.hostname}:${u.port || (u.protocol === 'mqtts:' ? 8883 : 1883)}`;
  }

  async start(): Promise<void> {
    const u = new URL(this.opts.url);
    if (u.protocol !== 'mqtts:') {
      if (!this.opts.insecurePlaintext) {
        throw new LinkError(
          'PLAINTEXT_REFUSED',
          `${this.opts.url}: plaintext MQTT is refused; use mqtts:// (or set mqtt.insecurePlaintextForDevelopment on a bench)`,
        );
      }
      this.opts.log.error(
        { url: this.opts.url },
        'INSECURE: plaintext MQTT enabled for development; never use this in the field',
      );
    }
    this.attempt();
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    if (c.connected) {
      const g = this.opts.goodbye();
      await new Promise<void>((resolve) => {
        // Never held up by a broker that took the session away without a PUBACK.
        const t = this.opts.clock.setTimeout(resolve, 2000);
        c.publish(g.topic, g.payload, { qos: 1, retain: true }, () => {
          this.opts.clock.clearTimeout(t);
          resolve();
        });
      });
      await new Promise<void>((resolve) => c.end(false, {}, () => resolve()));
    } else {
      c.end(true);
    }
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Ends the current session (if any) and starts a new attempt right away. */
  reconnect(): void {
    if (this.state === 'stopped') return;
    const c = this.client;
    if (c) {
      this.dropped(c);
      if (this.timer) this.opts.clock.clearTimeout(this.timer);
    }
    this.attempts = 0;
    this.attempt();
  }

  /** A QoS 1 publish on the current session; false when there is none. */
  publish(topic: string, payload: string): boolean {
    if (!this.client || this.state !== 'connected') return false;
    this.client.publish(topic, payload, { qos: 1 });
    return true;
  }

  private attempt(): void {
    if (this.state === 'stopped' && this.attempts > 0) return;
    this.state = 'connecting';
    this.attemptAt = this.opts.clock.monotonic();
    let tls: TlsMaterial;
    try {
      tls = this.opts.tls();
    } catch (e) {
      this.note(
        new LinkError('TLS_FILES', `cannot load the TLS files: ${(e as Error).message}`, { cause: e }),
      );
      this.retry();
      return;
    }
    const host = new URL(this.opts.url).hostname;
    const will = this.opts.will();
    // mqtt.js hands every option to tls.connect, so the TLS floor rides along.
    const options: IClientOptions & Pick<ConnectionOptions, 'minVersion' | 'ciphers'> = {
      protocolVersion: this.opts.protocolVersion,
      clientId: this.opts.clientId,
      clean: true,
      keepalive: this.opts.keepaliveS,
      reconnectPeriod: 0,
      // A PINGREQ every keepalive even while publishing, rather than a clearInterval and
      // setInterval at every PUBACK (a tenth of the drain's CPU at full speed, #12).
      reschedulePings: false,
      connectTimeout: this.opts.connectTimeoutMs * 2,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      // Node's OpenSSL runs at security level 1, which takes an RSA-1024 server key: level 2 refuses it.
      ciphers: `${DEFAULT_CIPHERS}:@SECLEVEL=2`,
      // mqtt.js fills the server name in for host names only; an IP is checked against the IP SANs.
      servername: this.opts.servername ?? (isIP(host) ? undefined : host),
      properties:
        this.opts.protocolVersion === 5 ? { maximumPacketSize: this.opts.maxPacketBytes } : undefined,
      // mqtt-packet's default pre-builds a Buffer for each of the 65,536 packet ids: 7 MB of the
      // main thread's heap for ever (a third of it at idle), to save a 2-byte write per packet (#12).
      writeCache: false,
    };
    const client = mqttPackage().connect(this.opts.url, options);
    this.client = client;
    this.guard(client);
    this.alive(client);
    this.timer = this.opts.clock.setTimeout(() => {
      if (this.client !== client || client.connected) return;
      this.note(
        new LinkError(
          'CONNACK_TIMEOUT',
          `no CONNACK from ${this.where} within ${this.opts.connectTimeoutMs} ms`,
        ),
      );
      client.end(true);
      this.dropped(client);
    }, this.opts.connectTimeoutMs);
    client.on('connect', (connack) => {
      if (this.client !== client) return;
      if (this.timer) this.opts.clock.clearTimeout(this.timer);
      this.state = 'connected';
      this.upAt = this.opts.clock.monotonic();
      this.connectedAt = this.opts.clock.now();
      if (this.lastError) this.opts.log.info({ url: this.opts.url, after: this.lastError.code }, 'connected');
      else this.opts.log.info({ url: this.opts.url }, 'connected');
      this.lastError = null;
      const b = this.opts.birth();
      client.publish(b.topic, b.payload, { qos: 1, retain: true });
      if (this.opts.subscriptions.length > 0) client.subscribe(this.opts.subscriptions, { qos: 1 });
      this.emit('up', client, connack.properties?.receiveMaximum ?? 65_535);
    });
    client.on('message', (topic, payload) => {
      if (this.client === client) this.emit('message', topic, payload);
    });
    client.on('error', (err) => {
      if (this.client === client) this.note(classify(err, this.where));
    });
    client.on('close', () => this.dropped(client));
  }

  /**
   * Bytes from the broker prove the link alive: the keepalive timer restarts, at
   * most every quarter keepalive (a restart per PUBACK cost a tenth of the drain's
   * CPU, #12). Without it mqtt.js wanted the PINGRESP within half a keepalive of
   * its PINGREQ, which on a slow uplink queues behind the window's publishes: the
   * session dropped at every keepalive while PUBACKs flowed, and the drain never
   * finished (hostile review: 400 readings, 2 KB/s, keepalive 5 s).
   */
  private alive(client: MqttClient): void {
    const every = this.opts.keepaliveS * 250;
    let last = this.opts.clock.monotonic();
    client.stream?.on('data', () => {
      const now = this.opts.clock.monotonic();
      if (now - last < every || this.client !== client) return;
      last = now;
      client.reschedulePing(true);
    });
  }

  /** Drops the session at the header of a packet over the cap, before it is buffered. */
  private guard(client: MqttClient): void {
    const stream = client.stream;
    if (!stream) return;
    const g = new FrameGuard(this.opts.maxPacketBytes);
    let refused = false;
    stream.on('data', (chunk: Buffer) => {
      if (refused) return;
      const size = g.feed(chunk);
      if (size === 0 || this.client !== client) return;
      refused = true;
      // Stop the flow at once; the session is torn down outside mqtt.js's own data handling.
      stream.pause();
      stream.unpipe();
      this.note(
        new LinkError(
          'PACKET_TOO_LARGE',
          `${this.where} sent a packet of ${size} bytes, above the ${this.opts.maxPacketBytes} this agent takes: connection dropped before buffering it`,
        ),
      );
      setImmediate(() => {
        stream.destroy();
        this.dropped(client);
      });
    });
  }

  private dropped(client: MqttClient): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners('message');
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    const wasUp = this.state === 'connected';
    // Only a session that lasted resets the backoff: a broker that drops every session right
    // after CONNACK would otherwise be hammered at the first step's rate.
    if (wasUp && this.opts.clock.monotonic() - this.upAt >= STABLE_SESSION_MS) this.attempts = 0;
    this.connectedAt = null;
    if (wasUp) {
      this.opts.log.warn({ url: this.opts.url }, 'connection lost');
      this.emit('down');
    }
    // Only now: ending fails the publishes still in flight at once, and the drain
    // must have let go of this client, or it would hand them straight back to it.
    client.end(true);
    if (this.state !== 'stopped') this.retry();
  }

  private retry(): void {
    if (this.state === 'stopped') return;
    this.state = 'waiting';
    const delay = retryDelay(
      this.attempts,
      this.opts.clock.monotonic() - this.attemptAt,
      this.opts.backoffMinMs,
      this.opts.backoffMaxMs,
      this.opts.random,
    );
    this.attempts++;
    this.timer = this.opts.clock.setTimeout(() => this.attempt(), delay);
  }

  /** Logs a failure once per change of kind, and keeps it for `status`. */
  private note(e: LinkError): void {
    if (this.lastError?.code !== e.code) this.opts.log.warn({ err: e, code: e.code }, e.message);
    this.lastError = { code: e.code, message: e.message, at: this.opts.clock.now() };
  }
}

/** A session up at least this long counts as a success: the backoff starts again from its first step. */
export const STABLE_SESSION_MS = 30_000;

/**
 * The wait before the next attempt: whatever is left of `minMs` since the last
 * attempt began (so a broker that drops each session at once never sees more
 * than one attempt per `minMs`), then the full-jitter backoff on top.
 */
export function retryDelay(
  attempt: number,
  sinceAttemptMs: number,
  minMs: number,
  maxMs: number,
  random: Random,
): number {
  return Math.max(0, minMs - sinceAttemptMs) + backoffDelay(attempt, minMs, maxMs, random);
}

/**
 * Full-jitter exponential backoff: uniform in [0, min(max, min * 2^attempt)), so
 * a city's gateways coming back after an outage do not reconnect in lockstep.
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: Random): number {
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  const b = random.bytes(4);
  const u = (((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0) / 2 ** 32;
  return Math.floor(u * cap);
}
