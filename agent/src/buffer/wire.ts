import type { SealedBatch, Stream, StreamItem } from '../core/index.js';
import type { StreamTotals } from './queries.js';
import type { SalvageFigure } from './salvage-table.js';

/** One operation the worker runs inside a group commit. */
export type StoreOp =
  | { k: 'append'; gen: number; batches: SealedBatch[]; settle: number[] }
  | { k: 'ack'; stream: Stream; epoch: number; fromSeq: number; toSeq: number }
  | { k: 'expire'; stream: Stream; cutoffUp: number };

/** Figures the main thread samples for the worker: its clock and the disk's free space. */
export interface OpContext {
  now: number;
  up: number;
  free: number;
}

/** Messages from the main thread to the outbox worker. */
export type ToWorker =
  | {
      t: 'open';
      file: string;
      maxBytes: number;
      minFreeBytes: number;
      gen: number;
      /** Fresh epochs drawn from the injected randomness, used in turn by each new file. */
      epochs: number[];
      ctx: OpContext;
    }
  | { t: 'op'; id: number; op: StoreOp; ctx: OpContext }
  | { t: 'check'; ctx: OpContext }
  | { t: 'close'; up: number };

/** A loss the outbox must report: committed as a debt, settled when its notice commits. */
export interface NoticeDebt {
  id: number;
  item: StreamItem;
  /** Debts of one group (one transaction, or all those found at open) are sealed into one batch. */
  group: number;
}

/** Everything the main thread mirrors of the store, sent after each open and group commit. */
export interface StoreState {
  epoch: number;
  heads: { stream: Stream; seq: number; prevHash: Uint8Array }[];
  floors: [Stream, number][];
  totals: [Stream, StreamTotals][];
  usedBytes: number;
  upBase: number;
  /** Transactions committed since the file was opened (one per group of operations). */
  commits: number;
  /** Notices owed and not yet sealed. */
  debts: NoticeDebt[];
  /** Rows of older epochs salvaged from quarantined files, per stream and epoch, oldest first. */
  salvage: SalvageFigure[];
}

/** A failure sent across the thread boundary (errors lose their class there). */
export interface WireError {
  code: string;
  message: string;
}

export type OpResult = { id: number; n: number } | { id: number; err: WireError };

/** Messages from the outbox worker to the main thread. */
export type FromWorker =
  | { t: 'opened'; state: StoreState }
  /**
   * A group committed or failed. `gen`: appends sealed under an older generation are
   * refused (they chain on batches that never committed); `quarantined`: the file
   * was found corrupt and replaced by a new one with a new epoch.
   */
  | { t: 'done'; results: OpResult[]; state: StoreState; gen: number; quarantined?: WireError }
  | { t: 'log'; level: 'info' | 'warn' | 'error'; obj: Record<string, unknown>; msg: string }
  | { t: 'failed'; err: WireError }
  | { t: 'closed' };

export function toWire(e: unknown): WireError {
  const err = e as { code?: unknown; message?: unknown };
  return {
    code: typeof err?.code === 'string' ? err.code : 'BUFFER_ERROR',
    message: String(err?.message ?? e),
  };
}
