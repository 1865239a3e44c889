import type { DecodedBatch } from '../../../agent/src/telemetry/index.js';
import type { Queryable } from './engine.js';

/**
 * PostgreSQL text and jsonb cannot hold U+0000, and a device may send one. Storing it
 * would fail the whole transaction, and the agent would resend that batch forever:
 * the queryable copy gets U+FFFD instead; the signed envelope keeps the original bytes.
 */
const clean = (s: string): string => (s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s);
const json = (v: unknown): string => JSON.stringify(v).replaceAll('\\u0000', '\\ufffd');

/**
 * Rows of the queryable tables for the batches one transaction stored: all their readings
 * in one statement and all their events in another (a round trip per batch was the bulk of
 * a collector's time), reports one by one (rare, and each replaces the latest of its kind).
 */
export async function storeContents(tx: Queryable, batches: DecodedBatch[]): Promise<void> {
  const rc: unknown[][] = Array.from({ length: 11 }, () => []);
  const ec: unknown[][] = Array.from({ length: 9 }, () => []);
  for (const b of batches) {
    for (const r of b.readings) {
      const v = r.value;
      rc[0].push(b.deviceId);
      rc[1].push(r.sensorId);
      rc[2].push(r.tsMs);
      rc[3].push(clean(r.unit));
      rc[4].push(v.kind);
      rc[5].push(v.kind === 'number' ? v.value : null);
      rc[6].push(
        v.kind === 'text'
          ? clean(v.value)
          : v.kind === 'blob' || v.kind === 'sealed'
            ? Buffer.from(v.value).toString('base64')
            : null,
      );
      rc[7].push(v.kind === 'flag' ? v.value : null);
      rc[8].push(json(r.labels));
      rc[9].push(b.epoch);
      rc[10].push(b.seq);
    }
    for (const e of b.events) {
      ec[0].push(b.deviceId);
      ec[1].push(e.tsMs);
      ec[2].push(clean(e.type));
      ec[3].push(e.severity);
      ec[4].push(clean(e.subject));
      ec[5].push(json(e.details));
      ec[6].push(e.count ?? null);
      ec[7].push(b.epoch);
      ec[8].push(b.seq);
    }
  }
  if (rc[0].length > 0)
    await tx.query(
      `INSERT INTO readings (device_id, sensor_id, ts, unit, kind, num, txt, flag, labels, epoch, seq)
       SELECT r.d, r.s, to_timestamp(r.t / 1000.0), r.u, r.k, r.n, r.x, r.f, r.l, r.e, r.q
       FROM unnest($1::text[], $2::text[], $3::float8[], $4::text[], $5::text[], $6::float8[], $7::text[],
         $8::bool[], $9::jsonb[], $10::int8[], $11::int8[]) AS r(d, s, t, u, k, n, x, f, l, e, q)`,
      rc,
    );
  if (ec[0].length > 0)
    await tx.query(
      `INSERT INTO security_events (device_id, ts, type, severity, subject, details, count, epoch, seq)
       SELECT x.v, to_timestamp(x.t / 1000.0), x.y, x.s, x.j, x.d, x.c, x.p, x.q
       FROM unnest($1::text[], $2::float8[], $3::text[], $4::int2[], $5::text[], $6::jsonb[], $7::int4[],
         $8::int8[], $9::int8[]) AS x(v, t, y, s, j, d, c, p, q)`,
      ec,
    );
  for (const b of batches) await storeReport(tx, b);
}

async function storeReport(tx: Queryable, b: DecodedBatch): Promise<void> {
  if (!b.report) return;
  const args = [
    b.deviceId,
    b.report.kind,
    b.createdAtMs,
    b.report.contentType,
    b.report.body,
    b.epoch,
    b.seq,
  ];
  await tx.query(
    `INSERT INTO reports (device_id, kind, created_at, content_type, body, epoch, seq)
     VALUES ($1, $2, to_timestamp($3 / 1000.0), $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    args,
  );
  // The latest of each kind: by sealing time, so a late resend of an old report never hides a newer one.
  await tx.query(
    `INSERT INTO latest_reports (device_id, kind, created_at, content_type, body, epoch, seq)
     VALUES ($1, $2, to_timestamp($3 / 1000.0), $4, $5, $6, $7)
     ON CONFLICT (device_id, kind) DO UPDATE SET created_at = EXCLUDED.created_at,
       content_type = EXCLUDED.content_type, body = EXCLUDED.body, epoch = EXCLUDED.epoch, seq = EXCLUDED.seq
     WHERE latest_reports.created_at <= EXCLUDED.created_at`,
    args,
  );
}
