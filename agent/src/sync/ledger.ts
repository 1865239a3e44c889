import type { RowFigures, StoredRow } from '../buffer/index.js';
import { STREAMS, type Stream } from '../core/index.js';

/** What the ledger needs of the durable store: reads in seq order, and where its prefix was cut. */
export interface LedgerStore {
  read(stream: Stream, afterSeq: number, limit: number): StoredRow[];
  /** Highest seq of `stream` removed as a prefix (acked, evicted, expired): nothing at or below it is stored. */
  floor(stream: Stream): number;
}

/** The delivery state of one stored row. Rows gone from the store have no state. */
export type RowState = 'due' | 'inflight' | 'delivered';

/** A row handed out for publishing; `token` names this one attempt. */
export interface Lease {
  row: StoredRow;
  token: number;
}

/**
 * Rows read per query beyond what the window takes now: refilling the window at
 * every PUBACK, as a bare publisher does, would otherwise cost one query (~25 µs
 * of fixed cost) per row (#12).
 */
export const READ_AHEAD_ROWS = 32;
/** Rows read ahead are read again after this long: at the drain's speed they are used within milliseconds. */
export const READ_AHEAD_MAX_MS = 1000;

/** Rows of one stream read past the cursor and not taken yet (`rows[i..]`), and when they were read. */
interface Ahead {
  rows: StoredRow[];
  i: number;
  at: number;
}

/** Publishes the broker has not answered, shared by the ledgers of one drain (one window for all). */
export class Window {
  rows = 0;
  bytes = 0;
  nextToken = 1;
}

interface Entry {
  /** `deleting`: PUBACKed in ackMode "broker", its delete not committed yet (still readable, never due). */
  state: 'inflight' | 'delivered' | 'deleting';
  token: number;
  bytes: number;
  items: number;
  createdMs: number;
  /** Monotonic time the state was entered. */
  at: number;
}

/**
 * The one owner of delivery state. Every stored row above the store's floor is
 * *due*, *in flight* (published, no PUBACK yet) or *delivered* (PUBACKed,
 * awaiting the collector's ack); below the floor it is gone. The window counts
 * in-flight publishes in messages and bytes, so a slow link can never hold more
 * than the window at the broker, and a row is never in flight twice.
 *
 * Invariant: every stored row with floor < seq <= cursor is in flight or
 * delivered; due rows are found by scanning the store after the cursor, which
 * moves back when a row becomes due again (scanning skips busy rows). Rows read
 * ahead are all above the cursor; a cursor moving back drops them.
 */
export class Ledger {
  private readonly busy = new Map<Stream, Map<number, Entry>>();
  private readonly cursor = new Map<Stream, number>();
  /** Highest seq ever taken per stream: above it no row is busy, so a scan from there needs no slack. */
  private readonly top = new Map<Stream, number>();
  /** The floor at the last sweep of forgotten rows, per stream. */
  private readonly swept = new Map<Stream, number>();
  private readonly ahead = new Map<Stream, Ahead>();

  constructor(
    private readonly store: LedgerStore,
    private readonly w = new Window(),
  ) {
    // The cursor starts at 0 and is read as max(cursor, floor): the store may open after the ledger exists.
    for (const s of STREAMS) {
      this.busy.set(s, new Map());
      this.cursor.set(s, 0);
    }
  }

  /**
   * The store started a new epoch (its file was quarantined at run time): every
   * row of the old one is gone, and seqs start again at 1. Publishes of the old
   * epoch still at the broker are no longer counted (at most one window, answered soon).
   * Only `streams` when given (the salvage ledger moves to another old epoch per stream).
   */
  reset(streams: readonly Stream[] = STREAMS): void {
    for (const s of streams) {
      for (const e of this.busy.get(s)!.values()) if (e.state === 'inflight') this.leave(e);
      this.busy.set(s, new Map());
      this.cursor.set(s, 0);
      this.top.delete(s);
      this.swept.delete(s);
      this.ahead.delete(s);
    }
  }

  /** Publishes the broker has not answered. */
  get outstanding(): { messages: number; bytes: number } {
    return { messages: this.w.rows, bytes: this.w.bytes };
  }

  /** A publish still unanswered counts as in flight even when its row was evicted meanwhile. */
  state(stream: Stream, seq: number): RowState | 'gone' {
    const e = this.busy.get(stream)!.get(seq);
    if (e?.state === 'inflight') return 'inflight';
    if (seq <= this.store.floor(stream) || e?.state === 'deleting') return 'gone';
    return e?.state ?? 'due';
  }

  /**
   * Takes due rows, events before reports before telemetry, oldest first, while
   * the window (`maxMessages`, `maxBytes`) has room; the first row always fits
   * an empty window so an oversized batch cannot stall a stream. Each row taken is in flight.
   */
  take(maxMessages: number, maxBytes: number, now: number, limit = Number.POSITIVE_INFINITY): Lease[] {
    this.forgetGone();
    const out: Lease[] = [];
    for (const stream of STREAMS) {
      const busy = this.busy.get(stream)!;
      let cursor = Math.max(this.cursor.get(stream)!, this.store.floor(stream));
      let done = false;
      while (!done) {
        const room = Math.min(maxMessages - this.w.rows, limit - out.length);
        if (room <= 0) {
          done = true;
          break;
        }
        // Slack for busy rows only when the cursor moved back below some: reading
        // 256 rows to take a quarter window made the drain half as fast (#12).
        const slack = cursor < (this.top.get(stream) ?? 0) ? Math.min(busy.size, 256) : 0;
        const a = this.readAhead(stream, cursor, room + slack, now);
        if (a.i >= a.rows.length) break;
        for (; a.i < a.rows.length; a.i++) {
          const row = a.rows[a.i];
          if (busy.has(row.seq)) {
            cursor = row.seq;
            continue;
          }
          const bytes = row.envelope.length;
          const full =
            this.w.rows >= maxMessages ||
            out.length >= limit ||
            (this.w.rows > 0 && this.w.bytes + bytes > maxBytes);
          if (full) {
            done = true;
            break;
          }
          const token = this.w.nextToken++;
          busy.set(row.seq, {
            state: 'inflight',
            token,
            bytes,
            items: row.items,
            createdMs: row.createdMs,
            at: now,
          });
          this.w.rows++;
          this.w.bytes += bytes;
          cursor = row.seq;
          if (row.seq > (this.top.get(stream) ?? 0)) this.top.set(stream, row.seq);
          out.push({ row, token });
        }
      }
      this.cursor.set(stream, cursor);
      if (done) return out;
    }
    return out;
  }

  /** The broker took this attempt: the row waits for the collector's ack. False if the attempt was abandoned. */
  pubacked(stream: Stream, seq: number, token: number, now: number): boolean {
    const e = this.leased(stream, seq, token);
    if (!e) return false;
    this.leave(e);
    if (seq <= this.store.floor(stream)) this.busy.get(stream)!.delete(seq);
    else {
      e.state = 'delivered';
      e.at = now;
    }
    return true;
  }

  /** This attempt failed, was refused or timed out: the row is due again. False if it was no longer current. */
  failed(stream: Stream, seq: number, token: number): boolean {
    const e = this.leased(stream, seq, token);
    if (!e) return false;
    this.leave(e);
    this.makeDue(stream, seq);
    return true;
  }

  /**
   * The row is going (ackMode "broker": its PUBACK deletes it). Until `deleted`
   * its place stays taken: a read before the delete commits would find it due.
   */
  dropOne(stream: Stream, seq: number): void {
    const e = this.busy.get(stream)!.get(seq);
    if (e?.state === 'inflight') this.leave(e);
    if (e) e.state = 'deleting';
  }

  /** The delete of a `dropOne` row committed (`ok`: the row is gone) or failed (the row is due again). */
  deleted(stream: Stream, seq: number, ok: boolean): void {
    if (this.busy.get(stream)!.get(seq)?.state !== 'deleting') return;
    if (ok) this.busy.get(stream)!.delete(seq);
    else this.makeDue(stream, seq);
  }

  /** Delivered rows (of `stream`, else all) without the collector's ack for `timeoutMs` are due again; returns how many. */
  expireDelivered(now: number, timeoutMs: number, stream?: Stream): number {
    let n = 0;
    for (const [s, busy] of this.busy) {
      if (stream !== undefined && s !== stream) continue;
      for (const [seq, e] of busy) {
        if (e.state === 'delivered' && now - e.at >= timeoutMs) {
          busy.delete(seq);
          this.moveCursorBelow(s, seq);
          n++;
        }
      }
    }
    return n;
  }

  /**
   * The row the collector needs next (the first above the floor: it acks only a
   * contiguous prefix), and when the broker PUBACKed it if it awaits the ack.
   */
  next(stream: Stream): { seq: number; deliveredAt: number | undefined } {
    const seq = this.store.floor(stream) + 1;
    const e = this.busy.get(stream)!.get(seq);
    return { seq, deliveredAt: e?.state === 'delivered' ? e.at : undefined };
  }

  /**
   * Makes due again the delivered rows from `from` up, consecutive seqs
   * PUBACKed before `before`, at most `max`; returns how many.
   */
  resendRun(stream: Stream, from: number, max: number, before: number): number {
    const busy = this.busy.get(stream)!;
    let n = 0;
    for (let seq = from; n < max; seq++, n++) {
      const e = busy.get(seq);
      if (e?.state !== 'delivered' || e.at >= before) break;
      this.makeDue(stream, seq);
    }
    return n;
  }

  /** The session is gone: every publish in flight is abandoned and its row due again. Returns the abandoned tokens. */
  abandonInflight(): number[] {
    const tokens: number[] = [];
    for (const [stream, busy] of this.busy) {
      for (const [seq, e] of busy) {
        if (e.state !== 'inflight') continue;
        tokens.push(e.token);
        this.leave(e);
        busy.delete(seq);
        this.moveCursorBelow(stream, seq);
      }
    }
    return tokens;
  }

  /** Delivered rows are due again (a new session, or `sync-now`): the broker may have lost them. */
  redeliver(): number {
    let n = 0;
    for (const [stream, busy] of this.busy) {
      for (const [seq, e] of busy) {
        if (e.state !== 'delivered') continue;
        busy.delete(seq);
        this.moveCursorBelow(stream, seq);
        n++;
      }
    }
    return n;
  }

  /** Rows PUBACKed and awaiting the collector's ack, per stream. */
  delivered(stream: Stream): RowFigures {
    this.forgetGone();
    const f: RowFigures = { rows: 0, bytes: 0, items: 0, oldestMs: null };
    for (const e of this.busy.get(stream)!.values()) {
      if (e.state !== 'delivered') continue;
      f.rows++;
      f.bytes += e.bytes;
      f.items += e.items;
      f.oldestMs = f.oldestMs === null ? e.createdMs : Math.min(f.oldestMs, e.createdMs);
    }
    return f;
  }

  /**
   * Drops the state of delivered rows the store no longer holds (acked,
   * evicted, expired). A publish in flight keeps its place in the window until
   * the broker answers it or it times out: the broker still holds it.
   */
  forgetGone(): void {
    for (const [stream, busy] of this.busy) {
      const floor = this.store.floor(stream);
      // A row PUBACKed below the floor is dropped at once (pubacked), so only a new floor can leave work here;
      // sweeping every take made the drain quadratic in the rows awaiting the collector (#12).
      if (this.swept.get(stream) === floor) continue;
      this.swept.set(stream, floor);
      for (const [seq, e] of busy) if (seq <= floor && e.state !== 'inflight') busy.delete(seq);
    }
  }

  private leased(stream: Stream, seq: number, token: number): Entry | undefined {
    const e = this.busy.get(stream)!.get(seq);
    return e && e.state === 'inflight' && e.token === token ? e : undefined;
  }

  private leave(e: Entry): void {
    this.w.rows--;
    this.w.bytes -= e.bytes;
  }

  private makeDue(stream: Stream, seq: number): void {
    this.busy.get(stream)!.delete(seq);
    this.moveCursorBelow(stream, seq);
  }

  private moveCursorBelow(stream: Stream, seq: number): void {
    if (this.cursor.get(stream)! < seq) return;
    this.cursor.set(stream, seq - 1);
    // The rows read ahead start above the old cursor: the gap below them is read first.
    this.ahead.delete(stream);
  }

  /**
   * The rows of `stream` above `cursor` read ahead, at least `want` of them when
   * the store holds them. Rows at or below the cursor (taken, or cut off by the
   * floor, which the cursor never sits below) are skipped first.
   */
  private readAhead(stream: Stream, cursor: number, want: number, now: number): Ahead {
    let a = this.ahead.get(stream);
    if (a) {
      while (a.i < a.rows.length && a.rows[a.i].seq <= cursor) a.i++;
      if (a.rows.length - a.i >= want && now - a.at < READ_AHEAD_MAX_MS) return a;
    }
    a = { rows: this.store.read(stream, cursor, Math.max(want, READ_AHEAD_ROWS)), i: 0, at: now };
    this.ahead.set(stream, a);
    return a;
  }
}
