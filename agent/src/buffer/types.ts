import type { Clock, Logger, Random, Sealer, Stream, StreamItem } from '../core/index.js';

export interface OutboxOptions {
  /** Path of the SQLite file. */
  file: string;
  /** Byte budget: database plus WAL. */
  maxBytes: number;
  /** Free space to keep on the filesystem. */
  minFreeBytes: number;
  /** Seals the outbox's own notices (evictions, quarantine) into the events stream. */
  sealer: Sealer;
  clock: Clock;
  random: Random;
  log: Logger;
  /** Free bytes on the data filesystem; injectable for tests. */
  freeBytes?: (dir: string) => number;
  /** Bound of what waits for the worker: a submit beyond it is refused (BUFFER_BUSY). */
  pendingLimit?: { batches: number; bytes: number };
  /** The worker died (the outbox refuses commits until it is back) or the file was quarantined. */
  onFault?: (err: Error) => void;
  /** The worker is back after a death. */
  onRecover?: () => void;
}

/** One buffered batch handed to sync. */
export interface OutboxRow {
  stream: Stream;
  epoch: number;
  seq: number;
  envelope: Uint8Array;
  items: number;
}

/** A stored row with the time it was committed. */
export type StoredRow = OutboxRow & { createdMs: number };

/** Rows, bytes, items and the oldest commit time of a set of rows. */
export interface RowFigures {
  rows: number;
  bytes: number;
  items: number;
  oldestMs: number | null;
}

/** What one stream holds: `sent` rows were PUBACKed and await the collector's ack. */
export interface StreamStats {
  stream: string;
  lastSeq: number;
  pending: RowFigures;
  sent: RowFigures;
}

export interface AppendRequest {
  stream: Stream;
  items: StreamItem[];
}
