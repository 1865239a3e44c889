import type { Stream } from '../core/index.js';

/** What a receiver learns from one batch's position in its chain. */
export type ChainFinding =
  | { kind: 'in_order' }
  /** Seen before with the same payload: a harmless resend. */
  | { kind: 'duplicate' }
  /** Seen before with a different payload: a forgery or a device replaying a seq. An attack. */
  | { kind: 'conflict' }
  /** Seqs from..to were skipped (so far). */
  | { kind: 'gap'; from: number; to: number }
  /** Arrived after a later seq: fills (part of) a gap. */
  | { kind: 'reordered' }
  /** `prev_hash` does not match the payload hash of seq-1 (or of seq+1's prev_hash). */
  | { kind: 'prev_hash_mismatch'; seq: number };

interface ChainState {
  /** Highest seq such that 1..contiguous were all received. */
  contiguous: number;
  highest: number;
  /** seq → payload hash (hex) and prev_hash (hex), for recent seqs. */
  seen: Map<number, { hash: string; prev: string }>;
}

export interface ChainTrackerOptions {
  /** How many recent seqs per chain keep their hashes in memory. */
  window?: number;
  /** Looks up an older seq's payload hash (for example in the collector's store). */
  lookup?: (key: string, seq: number) => { hash: Uint8Array; prev: Uint8Array } | undefined;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ZERO = '0'.repeat(64);

/**
 * Tracks every (device, stream, epoch) chain a receiver sees: duplicates,
 * conflicting duplicates, gaps, reordering and prev_hash mismatches.
 */
export class ChainTracker {
  private readonly chains = new Map<string, ChainState>();
  private readonly window: number;
  private readonly lookup: ChainTrackerOptions['lookup'];

  constructor(opts: ChainTrackerOptions = {}) {
    this.window = opts.window ?? 65_536;
    this.lookup = opts.lookup;
  }

  static key(deviceId: string, stream: Stream, epoch: number): string {
    return `${deviceId}/${stream}/${epoch}`;
  }

  /** Highest seq up to which every batch was seen. */
  contiguous(deviceId: string, stream: Stream, epoch: number): number {
    return this.chains.get(ChainTracker.key(deviceId, stream, epoch))?.contiguous ?? 0;
  }

  /** Restores a chain known to be complete up to `seq` (after a restart of the receiver). */
  restore(deviceId: string, stream: Stream, epoch: number, seq: number): void {
    const key = ChainTracker.key(deviceId, stream, epoch);
    if (!this.chains.has(key)) this.chains.set(key, { contiguous: seq, highest: seq, seen: new Map() });
  }

  /** Records one verified batch; the findings say what it means for the chain. */
  observe(
    deviceId: string,
    stream: Stream,
    epoch: number,
    seq: number,
    prevHash: Uint8Array,
    payloadHash: Uint8Array,
  ): ChainFinding[] {
    const key = ChainTracker.key(deviceId, stream, epoch);
    let c = this.chains.get(key);
    if (!c) {
      c = { contiguous: 0, highest: 0, seen: new Map() };
      this.chains.set(key, c);
    }
    const hash = hex(payloadHash);
    const prev = hex(prevHash);
    const known = c.seen.get(seq) ?? this.lookupHex(key, seq);
    if (known) return [{ kind: known.hash === hash ? 'duplicate' : 'conflict' }];
    if (seq <= c.contiguous) {
      // Below the contiguous mark but outside the window and unknown to the store: treat as a resend.
      return [{ kind: 'duplicate' }];
    }
    const findings: ChainFinding[] = [];
    const before = seq === 1 ? { hash: ZERO } : (c.seen.get(seq - 1) ?? this.lookupHex(key, seq - 1));
    if (before && before.hash !== prev) findings.push({ kind: 'prev_hash_mismatch', seq });
    const after = c.seen.get(seq + 1);
    if (after && after.prev !== hash) findings.push({ kind: 'prev_hash_mismatch', seq: seq + 1 });
    if (seq > c.highest + 1) findings.push({ kind: 'gap', from: c.highest + 1, to: seq - 1 });
    else if (seq < c.highest) findings.push({ kind: 'reordered' });
    else if (findings.length === 0) findings.push({ kind: 'in_order' });
    c.seen.set(seq, { hash, prev });
    c.highest = Math.max(c.highest, seq);
    while (c.seen.has(c.contiguous + 1) || this.lookup?.(key, c.contiguous + 1)) c.contiguous++;
    if (c.seen.size > this.window) {
      for (const s of c.seen.keys()) {
        if (c.seen.size <= this.window) break;
        if (s <= c.contiguous) c.seen.delete(s);
      }
    }
    return findings;
  }

  /** Marks seqs from..to as explained (an eviction notice covers them), so the chain moves on. */
  skip(deviceId: string, stream: Stream, epoch: number, from: number, to: number): void {
    const key = ChainTracker.key(deviceId, stream, epoch);
    const c = this.chains.get(key) ?? { contiguous: 0, highest: 0, seen: new Map() };
    this.chains.set(key, c);
    if (from <= c.contiguous + 1 && to > c.contiguous) c.contiguous = to;
    c.highest = Math.max(c.highest, to);
    while (c.seen.has(c.contiguous + 1)) c.contiguous++;
  }

  private lookupHex(key: string, seq: number): { hash: string; prev: string } | undefined {
    const r = this.lookup?.(key, seq);
    return r ? { hash: hex(r.hash), prev: hex(r.prev) } : undefined;
  }
}
