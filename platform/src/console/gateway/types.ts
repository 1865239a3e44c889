import type { BatchRef } from '../compliance/index.js';

/** One sensor or peripheral of a gateway with the firmware verdict its audit gave it. */
export interface SensorVerdict {
  location: string;
  bus: string;
  model: string | null;
  firmware: string | null;
  /** approved, unknown-model, unknown-firmware, vulnerable, unsupported, declared-missing. */
  verdict: string;
  cves: { id: string; severity: string }[];
  note: string | null;
}

/** The sensors of a gateway's latest inventory report, citing the signed batch. */
export interface SensorInventory {
  reportedAt: string;
  source: BatchRef;
  sensors: SensorVerdict[];
}

/** One numeric sensor's readings over a window, bucketed for a chart. */
export interface Series {
  sensorId: string;
  unit: string;
  /** Bucket start (ISO), mean, min, max and count of the readings in it. */
  points: { t: string; avg: number; min: number; max: number; n: number }[];
}

export interface Telemetry {
  /** The window: it ends at the gateway's newest reading (a gateway offline for a week still has a chart). */
  from: string | null;
  to: string | null;
  bucketSeconds: number;
  series: Series[];
}
