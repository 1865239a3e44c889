import type { MqttClient } from 'mqtt';
import type { Outbox, OutboxRow } from '../buffer/index.js';
import type { Clock, Logger, Service, TimerHandle } from '../core/index.js';
import type { AckMessage } from '../telemetry/index.js';
import type { Topics } from './topics.js';

export interface DrainOptions {
  outbox: Outbox;
  topics: Topics;
  ackMode: 'collector' | 'broker';
  ackTimeoutMs: number;
  inflight: number;
  publishTimeoutMs: number;
  rateLimit: number;
  /** Opens and checks an ack (AckVerifier.accept): null deletes nothing. */
  verifyAck: (payload: Uint8Array) => AckMessage | null;
  clock: Clock;
  log: Logger;
}

/** Delivery figures for `status`. */
export interface DrainStats {
  inflight: number;
  window: number;
  published: number;
  pubacked: number;
  failed: number;
  ackedRows: number;
  lastPubackAt: number | null;
  lastAckAt: number | null;
}

type Row = OutboxRow & { createdMs: number };

/**
 * The drain loop: hands outbox rows to the broker at QoS 1 within a capped
 * in-flight window, and deletes them when the collector's ack covers them.
 * A failed, refused (reason ≥ 0x80) or timed-out publish leaves the row due.
 */
export class Drain implements Service {
  readonly name = 'drain';
  private client: MqttClient | undefined;
  private window = 0;
  private readonly inflight = new Map<string, TimerHandle>();
  private ticker: TimerHandle | undefined;
  private rateTimer: TimerHandle | undefined;
  private tokens = 0;
  private lastRefill = 0;
  private pumping = false;
  private readonly s: DrainStats = {
    inflight: 0,
    window: 0,
    published: 0,
    pubacked: 0,
    failed: 0,
    ackedRows: 0,
    lastPubackAt: null,
    lastAckAt: null,
  };

  constructor(private readonly opts: DrainOptions) {}

  async start(): Promise<void> {
    this.tick();
  }

  async stop(): Promise<void> {
    if (this.ticker) this.opts.clock.clearTimeout(this.ticker);
    if (this.rateTimer) this.opts.clock.clearTimeout(this.rateTimer);
    this.ticker = undefined;
    this.detach();
  }

  /** A session is up: everything not yet acked is due again (the broker may have lost it). */
  attach(client: MqttClient, receiveMaximum: number): void {
    this.client = client;
    this.window = Math.max(1, Math.min(this.opts.inflight, receiveMaximum));
    this.tokens = this.opts.rateLimit;
    this.lastRefill = this.opts.clock.monotonic();
    this.opts.outbox.rewind();
    this.pump();
  }

  detach(): void {
    this.client = undefined;
    for (const t of this.inflight.values()) this.opts.clock.clearTimeout(t);
    this.inflight.clear();
    this.opts.outbox.rewind();
  }

  /** New rows were committed. */
  kick(): void {
    this.pump();
  }

  stats(): DrainStats {
    return { ...this.s, inflight: this.inflight.size, window: this.window };
  }

  /** An `ack` from the collector: only a verified one deletes rows. */
  onAck(payload: Buffer): void {
    const ack = this.opts.verifyAck(payload);
    if (!ack) return;
    const n = this.opts.outbox.ack(ack.stream, ack.epoch, ack.upToSeq);
    this.s.ackedRows += n;
    this.s.lastAckAt = this.opts.clock.now();
    if (ack.epoch !== this.opts.outbox.epoch) this.opts.log.debug({ ack }, 'ack for another epoch');
  }

  private tick(): void {
    const every = Math.max(50, Math.min(5000, Math.floor(this.opts.ackTimeoutMs / 4)));
    this.ticker = this.opts.clock.setTimeout(() => {
      if (this.client && this.opts.ackMode === 'collector') {
        const n = this.opts.outbox.expireUnacked(this.opts.ackTimeoutMs);
        if (n > 0) {
          this.opts.log.info({ rows: n }, 'no ack from the collector in time: sending again');
          this.pump();
        }
      }
      this.pump();
      this.tick();
    }, every);
  }

  private allowance(): number {
    if (this.opts.rateLimit <= 0) return Number.POSITIVE_INFINITY;
    const now = this.opts.clock.monotonic();
    this.tokens = Math.min(
      this.opts.rateLimit,
      this.tokens + ((now - this.lastRefill) / 1000) * this.opts.rateLimit,
    );
    this.lastRefill = now;
    return Math.floor(this.tokens);
  }

  /**
   * Tops the window up. After a PUBACK it waits until a quarter of the window
   * is free, so one outbox query serves many publishes.
   */
  private pump(afterPuback = false): void {
    if (!this.client || this.pumping) return;
    if (afterPuback && this.inflight.size > this.window - Math.max(1, Math.floor(this.window / 4))) return;
    this.pumping = true;
    try {
      while (this.client && this.inflight.size < this.window) {
        const allowed = this.allowance();
        if (allowed < 1) {
          if (!this.rateTimer) {
            this.rateTimer = this.opts.clock.setTimeout(
              () => {
                this.rateTimer = undefined;
                this.pump();
              },
              Math.ceil(1000 / this.opts.rateLimit),
            );
          }
          break;
        }
        const rows = this.opts.outbox.peek(Math.min(this.window - this.inflight.size, allowed));
        if (rows.length === 0) break;
        if (this.opts.rateLimit > 0) this.tokens -= rows.length;
        for (const row of rows) this.publish(this.client, row);
      }
    } finally {
      this.pumping = false;
    }
  }

  private publish(client: MqttClient, row: Row): void {
    const key = `${row.stream}:${row.seq}`;
    const fail = (why: string, err?: unknown) => {
      this.s.failed++;
      this.opts.log.debug({ err, stream: row.stream, seq: row.seq }, why);
      this.opts.outbox.release(row);
    };
    const timer = this.opts.clock.setTimeout(() => {
      if (!this.inflight.delete(key)) return;
      fail('no PUBACK in time');
      this.pump();
    }, this.opts.publishTimeoutMs);
    this.inflight.set(key, timer);
    this.s.published++;
    client.publish(this.opts.topics.stream(row.stream), asBuffer(row.envelope), { qos: 1 }, (err, packet) => {
      if (this.client !== client || this.inflight.get(key) !== timer) return;
      this.opts.clock.clearTimeout(timer);
      this.inflight.delete(key);
      const reason = (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0;
      if (err || reason >= 0x80) {
        fail(`publish refused (reason ${reason})`, err);
      } else {
        this.s.pubacked++;
        this.s.lastPubackAt = this.opts.clock.now();
        if (this.opts.ackMode === 'broker') this.opts.outbox.ackOne(row.stream, row.epoch, row.seq);
        else this.opts.outbox.markSent(row);
      }
      this.pump(true);
    });
  }
}

const asBuffer = (b: Uint8Array): Buffer =>
  Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
