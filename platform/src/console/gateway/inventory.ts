import { batchRef, latestCitedReports } from '../compliance/index.js';
import type { Queryable } from '../types.js';
import type { SensorInventory, SensorVerdict } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strOr = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** The devices of an inventory report body, or null when it is not one (a device's bytes, never trusted). */
export function sensorsOf(body: Uint8Array): SensorVerdict[] | null {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return null;
  }
  if (!isObj(doc) || !Array.isArray(doc.devices)) return null;
  return doc.devices.filter(isObj).map((d) => ({
    location: String(d.location ?? ''),
    bus: String(d.bus ?? ''),
    model: strOr(d.model),
    firmware: strOr(d.firmware),
    verdict: String(d.verdict ?? 'unknown'),
    cves: (Array.isArray(d.cves) ? d.cves.filter(isObj) : [])
      .slice(0, 50)
      .map((c) => ({ id: String(c.id ?? ''), severity: String(c.severity ?? '') })),
    note: strOr(d.note),
  }));
}

/** The sensors of a gateway's latest inventory report with their firmware verdicts (null: none yet). */
export async function sensorInventory(db: Queryable, deviceId: string): Promise<SensorInventory | null> {
  const [r] = await latestCitedReports(db, 'inventory', deviceId);
  if (!r) return null;
  const order = ['vulnerable', 'declared-missing', 'unknown-model', 'unknown-firmware', 'unsupported'];
  const rank = (v: string) => (order.includes(v) ? order.indexOf(v) : order.length);
  return {
    reportedAt: new Date(r.created_at).toISOString(),
    source: batchRef(deviceId, r),
    sensors: (sensorsOf(r.body) ?? []).sort(
      (a, b) => rank(a.verdict) - rank(b.verdict) || a.location.localeCompare(b.location),
    ),
  };
}
