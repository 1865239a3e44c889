/**
 * Domain types shared by every module. They mirror the wire contract but stay
 * independent of the generated protobuf code, so sources never import the codec.
 */

/** Upstream streams; values are the wire enum's numbers. */
export const Stream = { TELEMETRY: 1, EVENTS: 2, REPORTS: 3 } as const;
export type Stream = (typeof Stream)[keyof typeof Stream];
export const STREAMS: readonly Stream[] = [Stream.EVENTS, Stream.REPORTS, Stream.TELEMETRY];
export const streamName = (s: Stream): StreamName =>
  s === Stream.TELEMETRY ? 'telemetry' : s === Stream.EVENTS ? 'events' : 'reports';
export type StreamName = 'telemetry' | 'events' | 'reports';
export const streamByName: Record<StreamName, Stream> = {
  telemetry: Stream.TELEMETRY,
  events: Stream.EVENTS,
  reports: Stream.REPORTS,
};

/** Event severities; values are the wire enum's numbers. */
export const Severity = { INFO: 1, LOW: 2, MEDIUM: 3, HIGH: 4, CRITICAL: 5 } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/** Clock quality stamped on each batch. */
export const ClockQuality = { SYNCED: 1, UNSYNCED: 2, IMPLAUSIBLE: 3 } as const;
export type ClockQuality = (typeof ClockQuality)[keyof typeof ClockQuality];

/** A reading's value: exactly one kind. */
export type ReadingValue =
  | { kind: 'number'; value: number }
  | { kind: 'text'; value: string }
  | { kind: 'flag'; value: boolean }
  | { kind: 'blob'; value: Uint8Array }
  | { kind: 'sealed'; value: Uint8Array };

/** One measurement, after privacy rules. */
export interface Reading {
  sensorId: string;
  tsMs: number;
  unit: string;
  value: ReadingValue;
  labels: Record<string, string>;
}

/** One security event from the catalogue. */
export interface SecurityEvent {
  type: string;
  severity: Severity;
  tsMs: number;
  subject: string;
  details: Record<string, string>;
  count?: number;
  firstTsMs?: number;
  lastTsMs?: number;
}

/** A document-sized report. */
export interface Report {
  kind: 'inventory' | 'integrity' | 'audit' | 'commissioning' | 'sbom';
  /** `sbom`: a CycloneDX JSON document, gzip-compressed (a gateway's SBOM outgrows the envelope cap otherwise). */
  contentType: 'application/json' | 'application/vnd.cyclonedx+json+gzip';
  body: Uint8Array;
}

/** What one stream carries. */
export type StreamItem =
  | { stream: typeof Stream.TELEMETRY; reading: Reading }
  | { stream: typeof Stream.EVENTS; event: SecurityEvent }
  | { stream: typeof Stream.REPORTS; report: Report };

/** Where a stream's chain stands: the last committed batch. */
export interface ChainHead {
  epoch: number;
  /** Last committed seq (0 when none yet). */
  seq: number;
  /** SHA-256 of the last committed payload (32 zero bytes when none yet). */
  prevHash: Uint8Array;
}

/** A sealed batch ready to buffer. */
export interface SealedBatch {
  stream: Stream;
  epoch: number;
  seq: number;
  /** The Envelope's serialized bytes. */
  envelope: Uint8Array;
  /** SHA-256 of the Batch payload: the next batch's prev_hash. */
  payloadHash: Uint8Array;
  /** Number of readings/events/reports inside. */
  items: number;
}

/**
 * Seals items into one batch at the given chain position. Injected into the
 * buffer by the composition root so the buffer never imports the codec.
 */
export type Sealer = (stream: Stream, items: StreamItem[], head: ChainHead) => SealedBatch;
