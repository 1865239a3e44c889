import type { MqttClient } from 'mqtt';
import type { Outbox, StoredRow } from '../buffer/index.js';
import {
  type Clock,
  type Logger,
  type Service,
  STREAMS,
  type Stream,
  type TimerHandle,
} from '../core/index.js';
import type { AckMessage } from '../telemetry/index.js';
import { AckWait } from './ack-wait.js';
import { Attempts } from './attempts.js';
import { type Lease, Ledger, Window } from './ledger.js';
import type { Topics } from './topics.js';

export interface DrainOptions {
  outbox: Outbox;
  topics: Topics;
  ackMode: 'collector' | 'broker';
  ackTimeoutMs: number;
  /** Window in messages (capped by the broker's Receive Maximum). */
  inflight: number;
  /** Window in envelope bytes; one batch always fits an empty window. */
  inflightBytes: number;
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
  inflightBytes: number;
  window: number;
  windowBytes: number;
  published: number;
  pubacked: number;
  failed: number;
  timedOut: number;
  ackedRows: number;
  lastPubackAt: number | null;
  lastAckAt: number | null;
  /** The current wait for the collector's ack before the whole window is sent again (backs off while no ack comes). */
  ackWaitMs: number;
  /** Rows the collector needed next sent again alone (head-of-line probes, see AckWait). */
  probes: number;
}

/** Publishes between two yields to the event loop: ~2-3 ms of work at full speed on a gateway-class CPU. */
export const PUMP_SLICE = 32;

type PublishCallback = (err?: Error, packet?: unknown) => void;

/** One publish awaiting its PUBACK. */
interface Attempt {
  ledger: Ledger;
  row: StoredRow;
  c: DrainClient;
  cb: PublishCallback;
  /** Monotonic time past which it is withdrawn and its row due again. */
  deadline: number;
}

/** The parts of mqtt.js's client the drain uses (a test may stand in for the broker's session). */
export interface DrainClient extends Partial<Pick<MqttClient, 'connected' | 'disconnecting'>> {
  publish(topic: string, payload: Buffer, opts: { qos: 1 }, cb: PublishCallback): unknown;
  /** mqtt.js's publishes awaiting PUBACK, by message id. */
  outgoing?: Record<number, { cb: unknown }>;
  removeOutgoingMessage?(messageId: number): unknown;
}

/**
 * The drain loop: publishes due rows at QoS 1 within the window the ledger
 * keeps, and deletes them when a verified ack of the collector covers them.
 * A failed, refused (reason ≥ 0x80) or timed-out publish makes its row due
 * again; a timed-out one is first withdrawn from mqtt.js so it is never in
 * flight twice. Nothing is published into a client that is ending: its
 * failures would come straight back (the livelock of issue #12). Rows
 * salvaged from a quarantined file (old epochs) have a ledger of their own
 * in the same window, taken first: they are the oldest.
 */
export class Drain implements Service {
  readonly name = 'drain';
  readonly ledger: Ledger;
  /** Delivery state of the salvaged rows of old epochs, one epoch per stream at a time (`salvageGen`, by stream). */
  private readonly salvage: Ledger;
  private salvageGen: (number | undefined)[] = [];
  private client: DrainClient | undefined;
  private window = 0;
  private readonly attempts: Attempts<Attempt>;
  private ticker: TimerHandle | undefined;
  private rateTimer: TimerHandle | undefined;
  private tokens = 0;
  private lastRefill = 0;
  private pumping = false;
  /** Publishes since the drain last yielded to the event loop, and the turn it yielded to. */
  private slice = 0;
  private resume: NodeJS.Immediate | undefined;
  private readonly topicCache = new Map<Stream, string>();
  /** A publish failed while pumping: stop until the next tick rather than spin on the same row. */
  private stalled = false;
  /** When delivered rows are sent again: probes of the row the collector needs next, or the whole window. */
  private readonly ackWait: AckWait;
  private readonly s = {
    published: 0,
    pubacked: 0,
    failed: 0,
    timedOut: 0,
    ackedRows: 0,
    lastPubackAt: null as number | null,
    lastAckAt: null as number | null,
  };

  constructor(private readonly opts: DrainOptions) {
    const window = new Window();
    this.ledger = new Ledger(opts.outbox, window);
    this.salvage = new Ledger(opts.outbox.salvage, window);
    this.attempts = new Attempts<Attempt>(opts.clock, (token, a) => this.expired(token, a));
    this.ackWait = new AckWait(opts.ackTimeoutMs);
    opts.outbox.onNewEpoch(() => {
      this.ledger.reset();
      this.ackWait.forget(this.ledger);
      this.pump();
    });
  }

  async start(): Promise<void> {
    this.tick();
  }

  async stop(): Promise<void> {
    if (this.ticker) this.opts.clock.clearTimeout(this.ticker);
    if (this.rateTimer) this.opts.clock.clearTimeout(this.rateTimer);
    this.ticker = undefined;
    this.rateTimer = undefined;
    this.detach();
  }

  /** A session is up: rows the broker took before may be lost with the old session, so they are due again. */
  attach(client: DrainClient, receiveMaximum: number): void {
    this.detach();
    this.client = client;
    this.window = Math.max(1, Math.min(this.opts.inflight, receiveMaximum));
    this.tokens = this.opts.rateLimit;
    this.lastRefill = this.opts.clock.monotonic();
    this.both((l) => l.redeliver());
    this.pump();
  }

  private both(f: (l: Ledger) => unknown): void {
    f(this.salvage);
    f(this.ledger);
  }

  /** The session is gone: publishes in flight are abandoned, their rows due again. */
  detach(): void {
    this.client = undefined;
    if (this.resume) clearImmediate(this.resume);
    this.resume = undefined;
    this.slice = 0;
    this.both((l) => l.abandonInflight());
    this.attempts.clear();
  }

  /** New rows were committed. */
  kick(): void {
    this.pump();
  }

  /** `sync-now`: rows PUBACKed but not acked are sent again now. */
  syncNow(): void {
    this.both((l) => l.redeliver());
    this.pump();
  }

  stats(): DrainStats {
    const o = this.ledger.outstanding;
    return {
      ...this.s,
      inflight: o.messages,
      inflightBytes: o.bytes,
      window: this.window,
      windowBytes: this.opts.inflightBytes,
      ackWaitMs: this.ackWait.waitMs,
      probes: this.ackWait.probes,
    };
  }

  /** An `ack` from the collector: only a verified one deletes rows. */
  onAck(payload: Buffer): void {
    const ack = this.opts.verifyAck(payload);
    if (!ack) return;
    // The floor moves at once (the ledger forgets those rows now); the delete commits in the worker.
    // Either floor moving means the collector is taking rows (salvaged ones of an old epoch count too).
    const ledgers = [this.ledger, this.salvage];
    const before = ledgers.map((l) => l.next(ack.stream).seq);
    const deleted = this.opts.outbox.ack(ack.stream, ack.epoch, ack.upToSeq);
    const now = this.opts.clock.monotonic();
    ledgers.forEach((l, i) => {
      if (l.next(ack.stream).seq > before[i]) this.ackWait.moved(l, ack.stream, now);
    });
    this.both((l) => l.forgetGone());
    deleted.then(
      (n) => {
        this.s.ackedRows += n;
      },
      (err) => this.opts.log.warn({ err }, 'an ack could not delete its rows: they are sent again'),
    );
    this.s.lastAckAt = this.opts.clock.now();
    if (ack.epoch !== this.opts.outbox.epoch) this.opts.log.debug({ ack }, 'ack for another epoch');
    this.pump();
  }

  private tick(): void {
    const every = Math.max(50, Math.min(5000, Math.floor(this.opts.ackTimeoutMs / 4)));
    this.ticker = this.opts.clock.setTimeout(() => {
      if (this.client && this.opts.ackMode === 'collector') {
        const waitedMs = this.ackWait.waitMs;
        const r = this.ackWait.tick([this.salvage, this.ledger], this.opts.clock.monotonic());
        if (r.probed > 0)
          this.opts.log.info(
            { rows: r.probed },
            'the collector waits for a row it has not acked: sending it again',
          );
        if (r.expired > 0)
          this.opts.log.info(
            { rows: r.expired, waitedMs },
            'no ack from the collector in time: sending again',
          );
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

  private usable(c: DrainClient): boolean {
    return this.client === c && c.connected !== false && c.disconnecting !== true;
  }

  /**
   * Tops the window up, at every PUBACK as a bare publisher does: waiting for a
   * quarter of the window to free up left the link idle whenever the broker
   * held its PUBACKs back for our TCP ACK (Nagle against delayed ACK: 40 ms
   * stalls), and the ledger reads rows ahead so a refill costs no query (#12).
   * Every PUMP_SLICE publishes it yields to the event loop (setImmediate): a
   * broker answering faster than we publish, or mqtt.js handling a read full of
   * PUBACKs in one turn, would otherwise keep `status` and the watchdog waiting.
   */
  private pump(): void {
    const c = this.client;
    if (!c || this.pumping || this.resume || !this.usable(c)) return;
    this.pumping = true;
    this.stalled = false;
    try {
      while (this.usable(c) && !this.stalled) {
        if (this.slice >= PUMP_SLICE) {
          this.resume = setImmediate(() => {
            this.resume = undefined;
            this.slice = 0;
            this.pump();
          });
          break;
        }
        const allowed = Math.min(this.allowance(), PUMP_SLICE - this.slice);
        if (allowed < 1) {
          this.waitForTokens();
          break;
        }
        const leases = this.take(allowed);
        if (leases.length === 0) break;
        if (this.opts.rateLimit > 0) this.tokens -= leases.length;
        for (let i = 0; i < leases.length; i++) {
          if (!this.usable(c) || this.stalled) {
            // Taken but not published: due again, without counting as a failure.
            for (const [l, { row, token }] of leases.slice(i)) l.failed(row.stream, row.seq, token);
            break;
          }
          this.publish(c, ...leases[i]);
          this.slice++;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Salvaged rows first (the oldest), then the current epoch's, within one window. */
  private take(allowed: number): [Ledger, Lease][] {
    // A stream moved to another old epoch: its delivery state of the last one is void (those rows are gone).
    const gen = STREAMS.map((s) => this.opts.outbox.salvage.epochOf(s));
    const moved = STREAMS.filter((_, i) => gen[i] !== this.salvageGen[i]);
    if (moved.length > 0) this.salvage.reset(moved);
    this.salvageGen = gen;
    const now = this.opts.clock.monotonic();
    const out: [Ledger, Lease][] = [];
    for (const l of [this.salvage, this.ledger])
      for (const lease of l.take(this.window, this.opts.inflightBytes, now, allowed - out.length))
        out.push([l, lease]);
    return out;
  }

  private waitForTokens(): void {
    if (this.rateTimer) return;
    this.rateTimer = this.opts.clock.setTimeout(
      () => {
        this.rateTimer = undefined;
        this.pump();
      },
      Math.ceil(1000 / this.opts.rateLimit),
    );
  }

  private publish(c: DrainClient, ledger: Ledger, { row, token }: Lease): void {
    const cb: PublishCallback = (err, packet) => {
      if (!this.attempts.delete(token)) return; // Abandoned (timeout, disconnect): its row is already due again.
      const reason = (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0;
      if (err || reason >= 0x80)
        return this.fail(ledger, row, token, `publish refused (reason ${reason})`, err);
      if (!ledger.pubacked(row.stream, row.seq, token, this.opts.clock.monotonic())) return;
      this.s.pubacked++;
      this.s.lastPubackAt = this.opts.clock.now();
      if (this.opts.ackMode === 'broker') {
        ledger.dropOne(row.stream, row.seq);
        this.opts.outbox.ackOne(row.stream, row.epoch, row.seq).then(
          () => ledger.deleted(row.stream, row.seq, true),
          (err) => {
            this.opts.log.warn({ err }, 'a PUBACKed row could not be deleted: it is sent again');
            ledger.deleted(row.stream, row.seq, false);
          },
        );
      }
      this.pump();
    };
    const deadline = this.opts.clock.monotonic() + this.opts.publishTimeoutMs;
    this.attempts.add(token, { ledger, row, c, cb, deadline });
    this.s.published++;
    c.publish(this.topic(row.stream as Stream), asBuffer(row.envelope), { qos: 1 }, cb);
  }

  private fail(ledger: Ledger, row: StoredRow, token: number, why: string, err?: unknown): void {
    if (!ledger.failed(row.stream, row.seq, token)) return;
    this.s.failed++;
    this.opts.log.debug({ err, stream: row.stream, seq: row.seq }, why);
    // The next tick sends it again: pumping now would hand the same row to a client that just failed it.
    if (this.pumping) this.stalled = true;
  }

  /** A publish past its deadline is withdrawn from mqtt.js and its row due again. */
  private expired(token: number, a: Attempt): void {
    this.withdraw(a.c, a.cb);
    this.s.timedOut++;
    this.fail(a.ledger, a.row, token, 'no PUBACK in time');
  }

  private topic(stream: Stream): string {
    let t = this.topicCache.get(stream);
    if (t === undefined) {
      t = this.opts.topics.stream(stream);
      this.topicCache.set(stream, t);
    }
    return t;
  }

  /** Takes a timed-out publish back from mqtt.js, so it is not resent behind the row's next attempt. */
  private withdraw(c: DrainClient, cb: PublishCallback): void {
    const outgoing = c.outgoing ?? {};
    for (const [id, o] of Object.entries(outgoing)) {
      if (o.cb === cb) {
        c.removeOutgoingMessage?.(Number(id));
        return;
      }
    }
  }
}

const asBuffer = (b: Uint8Array): Buffer =>
  Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
