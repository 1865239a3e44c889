import type { Queryable } from '../types.js';
import type { Series, Telemetry } from './types.js';

export interface TelemetryWindow {
  hours: number;
  buckets: number;
  /** At most this many sensors (the ones with the most readings in the window). */
  maxSensors?: number;
}

/**
 * A gateway's numeric readings by sensor over the last `hours` up to its newest reading,
 * bucketed in the database (mean, min, max per bucket) so a chart gets `buckets` points
 * per sensor however many readings there are.
 */
export async function telemetry(db: Queryable, deviceId: string, w: TelemetryWindow): Promise<Telemetry> {
  const bucketSeconds = Math.max(1, Math.ceil((w.hours * 3600) / w.buckets));
  const [end] = await db.query<{ to: Date | string | null }>(
    `SELECT max(ts) AS "to" FROM readings WHERE device_id = $1 AND kind = 'number'`,
    [deviceId],
  );
  if (!end?.to) return { from: null, to: null, bucketSeconds, series: [] };
  const to = new Date(end.to);
  const from = new Date(to.getTime() - w.hours * 3_600_000);
  const rows = await db.query<{
    sensor_id: string;
    unit: string;
    b: string | number;
    avg: number;
    min: number;
    max: number;
    n: string | number;
  }>(
    `WITH top AS (
       SELECT sensor_id FROM readings WHERE device_id = $1 AND kind = 'number' AND ts >= $2 AND ts <= $3
       GROUP BY sensor_id ORDER BY count(*) DESC, sensor_id LIMIT $5)
     SELECT r.sensor_id, min(r.unit) AS unit, floor(extract(epoch FROM r.ts) / $4) AS b,
            avg(r.num) AS avg, min(r.num) AS min, max(r.num) AS max, count(*) AS n
     FROM readings r JOIN top USING (sensor_id)
     WHERE r.device_id = $1 AND r.kind = 'number' AND r.ts >= $2 AND r.ts <= $3 AND r.num IS NOT NULL
     GROUP BY r.sensor_id, b ORDER BY r.sensor_id, b`,
    [deviceId, from, to, bucketSeconds, w.maxSensors ?? 12],
  );
  const series = new Map<string, Series>();
  for (const r of rows) {
    const s = series.get(r.sensor_id) ?? { sensorId: r.sensor_id, unit: r.unit, points: [] };
    s.points.push({
      t: new Date(Number(r.b) * bucketSeconds * 1000).toISOString(),
      avg: Number(r.avg),
      min: Number(r.min),
      max: Number(r.max),
      n: Number(r.n),
    });
    series.set(r.sensor_id, s);
  }
  return { from: from.toISOString(), to: to.toISOString(), bucketSeconds, series: [...series.values()] };
}
