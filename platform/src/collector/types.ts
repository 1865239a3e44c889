import type { KeyObject } from 'node:crypto';
import type { ChainCounts, Store } from '../store/index.js';

export interface CollectorOptions {
  url: string;
  ca: string | Buffer;
  cert: string | Buffer;
  key: string | Buffer;
  servername?: string;
  /** 5 (default), or 4 for brokers that speak only MQTT 3.1.1 (the demo's aedes). */
  protocolVersion?: 4 | 5;
  prefix?: string;
  /** Unique per collector process (a broker closes the older of two sessions with one id). */
  clientId: string;
  /**
   * MQTT 5 shared-subscription group: the broker hands each batch to one member.
   * Empty: plain subscriptions (one collector, or a broker without shared subscriptions).
   */
  shareGroup: string;
  /** An open store the caller owns and stops (tests share one PGlite), or a URL to open. */
  store: Store | { url: string; migrate?: boolean };
  /** The collector role key (Ed25519) that signs every ack; a root-signed keys document names it. */
  ackKey: KeyObject;
  /** The root-signed keys document, published retained on each registered device's `keys` topic. */
  keysDocument?: Buffer;
  /** Development CA mode: answer devices' signed CSRs with certificates from this CA. */
  caMode?: { certPem: string; keyPem: string; days?: number };
  /** Longest a verified batch waits for its transaction (ms); transactions group batches. */
  commitDelayMs?: number;
  /** Batches per transaction at most. */
  maxBatch?: number;
  /** How often the registry is reloaded from the store (ms). */
  registryRefreshMs?: number;
  now?: () => number;
  log?: (line: string) => void;
}

/** What this collector process has done, for its live line and `--json`. */
export interface CollectorStats extends ChainCounts {
  devices: number;
  batches: number;
  rejected: Record<string, number>;
  acksSent: number;
  /** Transactions committed (batches / transactions = the average transaction size). */
  transactions: number;
  /** Transactions that failed (the store went away, a deadlock): their batches were not acked. */
  storeErrors: number;
}
