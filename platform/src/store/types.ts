import type { Stream } from '../../../agent/src/core/index.js';
import type { DecodedBatch } from '../../../agent/src/telemetry/index.js';

/** One batch whose signature, owner and stream were verified: what a collector hands the store. */
export interface IngestItem {
  batch: DecodedBatch;
  keyId: string;
  payloadHash: Uint8Array;
  envelope: Uint8Array;
}

/** A chain the store moved: the ack a collector may publish once the transaction committed. */
export interface ChainHead {
  device: string;
  stream: Stream;
  epoch: number;
  upToSeq: number;
}

/** What ingest counts, per transaction and summed over a collector's life. */
export interface ChainCounts {
  readings: number;
  events: number;
  duplicates: number;
  conflicts: number;
  gaps: number;
  gapsExplained: number;
  reordered: number;
  prevHashMismatches: number;
}

export const zeroChainCounts = (): ChainCounts => ({
  readings: 0,
  events: 0,
  duplicates: 0,
  conflicts: 0,
  gaps: 0,
  gapsExplained: 0,
  reordered: 0,
  prevHashMismatches: 0,
});

const CHAIN_COUNT_KEYS = Object.keys(zeroChainCounts()) as (keyof ChainCounts)[];

/** Adds the counts only: `into` may carry other fields (a collector's stats do). */
export function addChainCounts(into: ChainCounts, from: ChainCounts): void {
  for (const k of CHAIN_COUNT_KEYS) into[k] += from[k];
}

/** What one ingest transaction did. */
export interface IngestResult extends ChainCounts {
  stored: number;
  /** The chains this transaction touched, with their contiguous seq after it. */
  heads: ChainHead[];
  /** One line per alert row written (conflicts, prev_hash mismatches). */
  alerts: string[];
}

/** A registry entry: a device and (optionally) one of its signing keys. */
export interface DeviceInput {
  deviceId: string;
  /** Base64 of the raw 32-byte Ed25519 public key. */
  signingPublicKey?: string;
  site?: string;
  lat?: number;
  lon?: number;
  groups?: string[];
  certFingerprint?: string;
  certExpiresAt?: string;
  keyValidFrom?: string;
  keyValidUntil?: string;
}

export interface DeviceKeyRow {
  keyId: string;
  deviceId: string;
  publicKey: Buffer;
  validFromMs: number | null;
  validUntilMs: number | null;
  revoked: boolean;
}

export interface DeviceRow {
  deviceId: string;
  site: string | null;
  lat: number | null;
  lon: number | null;
  groups: string[];
  certFingerprint: string | null;
  certExpiresAt: string | null;
  revokedAt: string | null;
  keys: { keyId: string; validFrom: string | null; validUntil: string | null; revokedAt: string | null }[];
}

/** Retention, in days, by what it keeps. */
export const SETTINGS = [
  'readings_retention_days',
  'batches_retention_days',
  'events_retention_days',
] as const;
export type SettingName = (typeof SETTINGS)[number];
