import type { DecodedBatch } from '../../../agent/src/telemetry/index.js';
import type { Queryable } from './engine.js';

/**
 * PostgreSQL text and jsonb cannot hold U+0000, and a device may send one. Storing it
 * would fail the whole transaction, and the agent would resend that batch forever:
 * the queryable copy gets U+FFFD instead; the signed envelope keeps the original bytes.
 */
const clean = (s: string): string => (s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s);
const json = (v: unknown): string => JSON.stringify(v).replaceAll('\\u0000', '\\ufffd');

/** Rows of the queryable tables for one stored batch (readings, events, report). */
export async function storeContent(tx: Queryable, b: DecodedBatch): Promise<void> {
  if (b.readings.length > 0) {
    const cols: unknown[][] = [[], [], [], [], [], [], [], []];
    for (const r of b.readings) {
      const v = r.value;
      cols[0].push(r.sensorId);
      cols[1].push(r.tsMs);
      cols[2].push(clean(r.unit));
      cols[3].push(v.kind);
      cols[4].push(v.kind === 'number' ? v.value : null);
      cols[5].push(
        v.kind === 'text'
          ? clean(v.value)
          : v.kind === 'blob' || v.kind === 'sealed'
            ? Buffer.from(v.value).toString('base64')
            : null,
      );
      cols[6].push(v.kind === 'flag' ? v.value : null);
      cols[7].push(json(r.labels));
    }
    await tx.query(
      `INSERT INTO readings (device_id, sensor_id, ts, unit, kind, num, txt, flag, labels, epoch, seq)
       SELECT $1, r.s, to_timestamp(r.t / 1000.0), r.u, r.k, r.n, r.x, r.f, r.l, $2, $3
       FROM unnest($4::text[], $5::float8[], $6::text[], $7::text[], $8::float8[], $9::text[], $10::bool[], $11::jsonb[])
         AS r(s, t, u, k, n, x, f, l)`,
      [b.deviceId, b.epoch, b.seq, ...cols],
    );
  }
  if (b.events.length > 0) {
    const cols: unknown[][] = [[], [], [], [], [], []];
    for (const e of b.events) {
      cols[0].push(e.tsMs);
      cols[1].push(clean(e.type));
      cols[2].push(e.severity);
      cols[3].push(clean(e.subject));
      cols[4].push(json(e.details));
      cols[5].push(e.count ?? null);
    }
    await tx.query(
      `INSERT INTO security_events (device_id, ts, type, severity, subject, details, count, epoch, seq)
       SELECT $1, to_timestamp(e.t / 1000.0), e.y, e.s, e.j, e.d, e.c, $2, $3
       FROM unnest($4::float8[], $5::text[], $6::int2[], $7::text[], $8::jsonb[], $9::int4[]) AS e(t, y, s, j, d, c)`,
      [b.deviceId, b.epoch, b.seq, ...cols],
    );
  }
  if (b.report) {
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
}
