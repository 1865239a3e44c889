import { Stream } from '../../../../agent/src/core/index.js';
import { batchRef } from '../compliance/index.js';
import type { Queryable } from '../types.js';
import { packageCounts, parseSbom, SbomReportError, sbomJson } from './sbom.js';
import type { ParsedSbom, SbomSummary, SoftwareFinding } from './types.js';

interface LatestSbom {
  device_id: string;
  epoch: string | number;
  seq: string | number;
  created_at: Date | string;
  content_type: string;
  body: Uint8Array;
}

const EMPTY: ParsedSbom = { components: 0, serialNumber: null, feedVersion: null, os: null, findings: [] };

/**
 * Brings `console_software` up to the latest SBOM report of each gateway (or of one):
 * the report is gzipped CycloneDX the database cannot read, so it is parsed here once per
 * report and kept, and the fleet page counts from the table. At most `limit` reports, the
 * newest first. Returns how many it read.
 */
export async function refreshSoftware(db: Queryable, deviceId?: string, limit = 100_000): Promise<number> {
  const stale = await db.query<LatestSbom>(
    `SELECT l.device_id, l.epoch, l.seq, l.created_at, l.content_type, l.body
     FROM latest_reports l LEFT JOIN console_software s ON s.device_id = l.device_id
     WHERE l.kind = 'sbom' AND ($1::text IS NULL OR l.device_id = $1)
       AND (s.device_id IS NULL OR s.epoch <> l.epoch OR s.seq <> l.seq)
     ORDER BY l.created_at DESC LIMIT $2`,
    [deviceId ?? null, limit],
  );
  for (const r of stale) {
    let parsed = EMPTY;
    let problem: string | null = null;
    try {
      parsed = parseSbom(sbomJson(r.body, r.content_type));
    } catch (e) {
      if (!(e instanceof SbomReportError)) throw e;
      problem = e.message;
    }
    const n = packageCounts(parsed.findings);
    // Two consoles may read the same report at once; an older one never replaces a newer.
    await db.query(
      `INSERT INTO console_software (device_id, epoch, seq, reported_at, components, vulnerable, kev, critical,
         findings, meta, problem)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (device_id) DO UPDATE SET epoch = EXCLUDED.epoch, seq = EXCLUDED.seq,
         reported_at = EXCLUDED.reported_at, components = EXCLUDED.components, vulnerable = EXCLUDED.vulnerable,
         kev = EXCLUDED.kev, critical = EXCLUDED.critical, findings = EXCLUDED.findings, meta = EXCLUDED.meta,
         problem = EXCLUDED.problem
       WHERE console_software.reported_at <= EXCLUDED.reported_at`,
      [
        r.device_id,
        r.epoch,
        r.seq,
        r.created_at,
        parsed.components,
        n.vulnerable,
        n.kev,
        n.critical,
        JSON.stringify(parsed.findings),
        JSON.stringify({ serialNumber: parsed.serialNumber, feedVersion: parsed.feedVersion, os: parsed.os }),
        problem,
      ],
    );
  }
  return stale.length;
}

/** The SBOM summary and findings of one gateway (null: no SBOM report yet). */
export async function softwareOf(
  db: Queryable,
  deviceId: string,
): Promise<{ sbom: SbomSummary; findings: SoftwareFinding[] } | null> {
  await refreshSoftware(db, deviceId);
  const [r] = await db.query<{
    epoch: string | number;
    seq: string | number;
    reported_at: Date | string;
    components: number;
    vulnerable: number;
    kev: number;
    critical: number;
    findings: SoftwareFinding[];
    meta: { serialNumber: string | null; feedVersion: number | null; os: string | null };
    problem: string | null;
    payload_hash: Uint8Array | null;
  }>(
    `SELECT s.*, b.payload_hash FROM console_software s LEFT JOIN batches b
       ON b.device_id = s.device_id AND b.stream = $2 AND b.epoch = s.epoch AND b.seq = s.seq
     WHERE s.device_id = $1`,
    [deviceId, Stream.REPORTS],
  );
  if (!r) return null;
  return {
    sbom: {
      deviceId,
      reportedAt: new Date(r.reported_at).toISOString(),
      source: batchRef(deviceId, r),
      components: r.components,
      vulnerablePackages: r.vulnerable,
      kevPackages: r.kev,
      criticalPackages: r.critical,
      serialNumber: r.meta.serialNumber,
      feedVersion: r.meta.feedVersion,
      os: r.meta.os,
      problem: r.problem,
    },
    findings: r.findings,
  };
}

/** The stored CycloneDX JSON of a gateway's latest SBOM report, as the gateway sent it (null: none). */
export async function sbomDocument(db: Queryable, deviceId: string): Promise<string | null> {
  const [r] = await db.query<{ body: Uint8Array; content_type: string }>(
    `SELECT body, content_type FROM latest_reports WHERE device_id = $1 AND kind = 'sbom'`,
    [deviceId],
  );
  return r ? sbomJson(r.body, r.content_type) : null;
}
