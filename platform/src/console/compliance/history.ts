import type { Queryable } from '../types.js';
import { checksOf } from './checks.js';
import { byProvision, verdict } from './matrix.js';

const DAY = 86_400_000;

export interface ProvisionHistory {
  standard: string;
  provision: string;
  /** Per day (same order as `days`): compliant / assessed gateways, null when none was assessed. */
  share: (number | null)[];
  compliant: number[];
  assessed: number[];
}

export interface ComplianceHistory {
  /** UTC days, oldest first, ending on the day of the newest audit report. */
  days: string[];
  provisions: ProvisionHistory[];
}

interface Row {
  device_id: string;
  created_at: Date | string;
  body: Uint8Array;
}

/**
 * Share compliant per provision by day, from the stored audit report history: each day,
 * each gateway counts with its latest audit report sealed by the end of that day (a
 * gateway's standing carries over the days it sent nothing new).
 */
export async function complianceHistory(
  db: Queryable,
  o: { days: number; deviceId?: string },
): Promise<ComplianceHistory> {
  const dev = o.deviceId ?? null;
  const [last] = await db.query<{ at: Date | string | null }>(
    `SELECT max(created_at) AS at FROM reports WHERE kind = 'audit' AND ($1::text IS NULL OR device_id = $1)`,
    [dev],
  );
  if (!last?.at) return { days: [], provisions: [] };
  const lastDay = Math.floor(new Date(last.at).getTime() / DAY) * DAY;
  const start = new Date(lastDay - (o.days - 1) * DAY);
  // The standing at the start of the window, then every report within it.
  const rows = [
    ...(await db.query<Row>(
      `SELECT DISTINCT ON (device_id) device_id, created_at, body FROM reports
       WHERE kind = 'audit' AND created_at < $1 AND ($2::text IS NULL OR device_id = $2)
       ORDER BY device_id, created_at DESC, epoch DESC, seq DESC`,
      [start, dev],
    )),
    ...(await db.query<Row>(
      `SELECT device_id, created_at, body FROM reports
       WHERE kind = 'audit' AND created_at >= $1 AND ($2::text IS NULL OR device_id = $2)
       ORDER BY created_at, epoch, seq`,
      [start, dev],
    )),
  ];
  const days = Array.from({ length: o.days }, (_, i) => new Date(start.getTime() + i * DAY));
  const rowsByKey = new Map<string, ProvisionHistory>();
  const standing = new Map<string, Map<string, ReturnType<typeof verdict>>>();
  let next = 0;
  days.forEach((day, i) => {
    const end = day.getTime() + DAY;
    for (; next < rows.length && new Date(rows[next].created_at).getTime() < end; next++) {
      const r = rows[next];
      const verdicts = new Map<string, ReturnType<typeof verdict>>();
      for (const [key, checks] of byProvision({ checks: checksOf(r.body) ?? [] }))
        verdicts.set(key, verdict(checks));
      standing.set(r.device_id, verdicts);
    }
    for (const verdicts of standing.values())
      for (const [key, v] of verdicts) {
        if (v === null) continue;
        const [standard, provision] = key.split('|');
        const row = rowsByKey.get(key) ?? {
          standard,
          provision,
          share: Array(o.days).fill(null),
          compliant: Array(o.days).fill(0),
          assessed: Array(o.days).fill(0),
        };
        row.assessed[i]++;
        if (v === 'pass') row.compliant[i]++;
        row.share[i] = row.compliant[i] / row.assessed[i];
        rowsByKey.set(key, row);
      }
  });
  const natural = new Intl.Collator('en', { numeric: true });
  return {
    days: days.map((d) => d.toISOString().slice(0, 10)),
    provisions: [...rowsByKey.values()].sort(
      (x, y) => natural.compare(x.standard, y.standard) || natural.compare(x.provision, y.provision),
    ),
  };
}
