import { STREAMS, type Stream } from '../core/index.js';
import type { Ledger } from './ledger.js';

/**
 * How far the wait for the collector's ack may grow, as a multiple of `ackTimeoutMs`.
 * A collector that is slow (or gone) would otherwise get the whole window again at
 * every timeout: on a loaded platform that resend storm is what keeps it from
 * catching up (torture row R3 saw 594,080 publishes for 11,700 rows).
 */
export const MAX_ACK_WAIT_FACTOR = 16;

/** Rows of one stream of one ledger sent again as a probe: up to seq `top`, `size` of them, at `at`. */
interface Probe {
  top: number;
  at: number;
  size: number;
}

/** What AckWait keeps of one ledger, by stream: its open probes, and when an ack last moved its floor (monotonic). */
interface Track {
  probes: Map<Stream, Probe>;
  movedAt: Map<Stream, number>;
}

/** What one tick sent again: rows probed, and rows of the whole window. */
export interface Resent {
  probed: number;
  expired: number;
}

/**
 * When rows PUBACKed by the broker but not acked by the collector are sent
 * again (ackMode "collector"). The collector acks only its contiguous prefix,
 * so one batch it did not store (lost between broker and collector) pins the
 * ack while every row above it waits, and sending the whole window again at a
 * doubling wait is slow to heal it (the bench drain that stalled with 9,851
 * rows waiting behind 152 acked at an ack wait of 480 s, behind a collector that
 * shed a burst: README, Benchmark). So, per stream:
 *
 * - Probe: when the row the collector needs next has waited `baseMs` since its
 *   PUBACK and no ack moved its floor for `baseMs`, that one row is
 *   sent again; the wait does not grow. An answered probe whose ack stops at its
 *   top, the next row PUBACKed before the probe went out, shows that row lost too
 *   (the collector takes a topic in order): it is probed at once, twice as many
 *   rows each time, so a run of lost batches costs a few round trips.
 * - Fallback: a probe unanswered for the current wait, or rows waiting that
 *   long while their floor did not move for as long, and every row
 *   waiting that long is sent again and the wait doubles (up to
 *   MAX_ACK_WAIT_FACTOR): a collector that acks nothing at all. An ack that
 *   moves a floor sets the wait back to `baseMs`.
 *
 * Floors are per ledger and stream: acks of the current epoch must not hold
 * back the probe of a salvaged row of an old one in the same stream.
 */
export class AckWait {
  /** The current wait before the whole window is sent again. */
  waitMs: number;
  /** Rows sent again by probes. */
  probes = 0;
  private readonly tracks = new Map<Ledger, Track>();

  constructor(private readonly baseMs: number) {
    this.waitMs = baseMs;
  }

  /** An ack moved the floor of `stream` in `ledger`: the collector is taking rows. */
  moved(ledger: Ledger, stream: Stream, now: number): void {
    this.track(ledger).movedAt.set(stream, now);
    this.waitMs = this.baseMs;
  }

  /** What was kept of `ledger` is void (its rows were reset: a new epoch). */
  forget(ledger: Ledger): void {
    this.tracks.delete(ledger);
  }

  /** One look at every stream of `ledgers`: probes where one is due, the fallback where that is due. */
  tick(ledgers: readonly Ledger[], now: number): Resent {
    const r: Resent = { probed: 0, expired: 0 };
    for (const l of ledgers) {
      const t = this.track(l);
      for (const s of STREAMS) {
        const p = this.probe(l, t, s, now);
        if (p === 'held') continue;
        r.probed += p;
        if (p === 0 && now - lastMove(t, s) >= this.waitMs)
          r.expired += l.expireDelivered(now, this.waitMs, s);
      }
    }
    this.probes += r.probed;
    if (r.expired > 0) this.waitMs = Math.min(this.waitMs * 2, this.baseMs * MAX_ACK_WAIT_FACTOR);
    return r;
  }

  private track(l: Ledger): Track {
    let t = this.tracks.get(l);
    if (!t) {
      t = { probes: new Map(), movedAt: new Map() };
      this.tracks.set(l, t);
    }
    return t;
  }

  /** Rows of `s` probed now, or 'held' while a probe awaits its answer (no fallback meanwhile). */
  private probe(l: Ledger, t: Track, s: Stream, now: number): number | 'held' {
    const probes = t.probes;
    const p = probes.get(s);
    const next = l.next(s);
    if (p && next.seq <= p.top) {
      if (now - p.at < this.waitMs) return 'held';
      probes.delete(s);
      return 0;
    }
    probes.delete(s);
    const at = next.deliveredAt;
    if (at === undefined) return 0;
    // The ack that answered the probe stopped right above it: the collector is missing the next row too. An ack
    // past the probe's top only shows a collector catching up (it had those rows): read as a loss, each such ack
    // sent twice the rows again, and a collector lagging after a stall got most of its backlog twice.
    const lostToo = p !== undefined && at < p.at && next.seq === p.top + 1;
    if (!lostToo && (now - at < this.baseMs || now - lastMove(t, s) < this.baseMs)) return 0;
    const size = lostToo ? p.size * 2 : 1;
    const n = l.resendRun(s, next.seq, size, lostToo ? p.at : Number.POSITIVE_INFINITY);
    if (n > 0) probes.set(s, { top: next.seq + n - 1, at: now, size });
    return n;
  }
}

const lastMove = (t: Track, s: Stream): number => t.movedAt.get(s) ?? Number.NEGATIVE_INFINITY;
