import { Stream } from '../../../../agent/src/core/index.js';
import type { Queryable } from '../types.js';
import { type Check, checksOf } from './checks.js';

export const STANDARDS = { etsi: 'ETSI EN 303 645', iec: 'IEC 62443-4-2' } as const;
export type Verdict = 'pass' | 'fail' | 'unknown';

/** The signed batch an audit report came in: what an auditor checks against the device's chain. */
export interface BatchRef {
  deviceId: string;
  stream: 'reports';
  epoch: number;
  seq: number;
  /** SHA-256 of the batch's payload, hex (null if the batch row is gone, e.g. by retention). */
  payloadHash: string | null;
}

/** A report row's batch reference (the row joined with its batch's payload_hash). */
export const batchRef = (
  deviceId: string,
  r: { epoch: string | number; seq: string | number; payload_hash: Uint8Array | null },
): BatchRef => ({
  deviceId,
  stream: 'reports',
  epoch: Number(r.epoch),
  seq: Number(r.seq),
  payloadHash: r.payload_hash ? Buffer.from(r.payload_hash).toString('hex') : null,
});

export interface Assessment {
  deviceId: string;
  reportedAt: string;
  source: BatchRef;
  checks: Check[];
}

export interface ProvisionRow {
  standard: string;
  provision: string;
  /** Per gateway that has checks citing it: all pass, any fail, or not readable. */
  results: Record<string, Verdict>;
  compliant: number;
  assessed: number;
  /** compliant / assessed, 0..1 (null when no gateway was assessed on it). */
  share: number | null;
}

/** A gateway's latest report of one kind, with the hash of the signed batch it came in. */
export interface CitedReport {
  device_id: string;
  body: Uint8Array;
  created_at: Date | string;
  epoch: string | number;
  seq: string | number;
  payload_hash: Uint8Array | null;
}

/** The latest report of `kind` of each gateway (or of one), joined to the batch it was signed in. */
export function latestCitedReports(db: Queryable, kind: string, deviceId?: string): Promise<CitedReport[]> {
  return db.query<CitedReport>(
    `SELECT r.device_id, r.body, r.created_at, r.epoch, r.seq, b.payload_hash
     FROM latest_reports r LEFT JOIN batches b
       ON b.device_id = r.device_id AND b.stream = $1 AND b.epoch = r.epoch AND b.seq = r.seq
     WHERE r.kind = $2 AND ($3::text IS NULL OR r.device_id = $3) ORDER BY r.device_id`,
    [Stream.REPORTS, kind, deviceId ?? null],
  );
}

/** The latest audit report of each gateway (or of one), with the batch it was signed in. */
export async function loadAssessments(db: Queryable, deviceId?: string): Promise<Assessment[]> {
  const rows = await latestCitedReports(db, 'audit', deviceId);
  return rows.map((r) => ({
    deviceId: r.device_id,
    reportedAt: new Date(r.created_at).toISOString(),
    source: batchRef(r.device_id, r),
    checks: checksOf(r.body) ?? [],
  }));
}

/** What the checks citing one provision say: any fail fails it; a not-readable one leaves it unknown. */
export function verdict(checks: Check[]): Verdict | null {
  const applicable = checks.filter((c) => c.status !== 'not-applicable');
  if (applicable.length === 0) return null;
  if (applicable.some((c) => c.status === 'fail')) return 'fail';
  return applicable.every((c) => c.status === 'pass') ? 'pass' : 'unknown';
}

/** The checks of one assessment per provision they cite, keyed `standard|provision`. */
export function byProvision(a: Pick<Assessment, 'checks'>): Map<string, Check[]> {
  const out = new Map<string, Check[]>();
  for (const c of a.checks)
    for (const [k, refs] of [
      ['etsi', c.etsi],
      ['iec', c.iec],
    ] as const)
      for (const p of refs) {
        const key = `${STANDARDS[k]}|${p}`;
        out.set(key, [...(out.get(key) ?? []), c]);
      }
  return out;
}

/** Provisions × gateways, with the share of assessed gateways compliant per provision. */
export function complianceMatrix(assessments: Assessment[]): ProvisionRow[] {
  const rows = new Map<string, ProvisionRow>();
  for (const a of assessments)
    for (const [key, checks] of byProvision(a)) {
      const v = verdict(checks);
      if (v === null) continue;
      const [standard, provision] = key.split('|');
      const row = rows.get(key) ?? {
        standard,
        provision,
        results: {},
        compliant: 0,
        assessed: 0,
        share: null,
      };
      row.results[a.deviceId] = v;
      row.assessed++;
      if (v === 'pass') row.compliant++;
      row.share = row.compliant / row.assessed;
      rows.set(key, row);
    }
  const natural = new Intl.Collator('en', { numeric: true });
  return [...rows.values()].sort(
    (x, y) => natural.compare(x.standard, y.standard) || natural.compare(x.provision, y.provision),
  );
}
