import type { Alert } from '../alerts/index.js';
import { uuidv5 } from './stix.js';
import type { IncidentDetail } from './types.js';

const NS = '8a5e0f52-6c57-4d6b-9b0e-2d1c4f7a9e13';
const THREAT_LEVEL: Record<string, string> = { critical: '1', high: '1', medium: '2', low: '3' };

/** MISP attributes for one alert: what was seen (category, type), on which gateway. */
function attributes(a: Alert): Record<string, unknown>[] {
  const base = (type: string, category: string, value: string, comment: string) => ({
    uuid: uuidv5(`alert:${a.id}:${type}:${value}`, NS),
    type,
    category,
    value,
    comment,
    to_ids: false,
    distribution: '5',
    timestamp: String(Math.floor(Date.parse(a.lastAt) / 1000)),
    first_seen: a.firstAt,
    last_seen: a.lastAt,
  });
  const out = [
    base('target-machine', 'Targeting data', a.deviceId, `${a.type}: ${a.summary} (x${a.count})`),
    base(
      'text',
      'Other',
      JSON.stringify({ type: a.type, subject: a.subject, evidence: a.evidence }),
      'evidence',
    ),
  ];
  if (a.type === 'integrity_change')
    out.push(base('filename', 'Artifacts dropped', a.subject, 'changed on the gateway'));
  if (a.type === 'vulnerable_firmware')
    out.push(base('text', 'External analysis', a.subject, 'sensor with vulnerable firmware'));
  return out;
}

/** A MISP event (the JSON MISP imports), tagged with the incident's ENISA RSIT class and type and TLP:AMBER. */
export function mispEvent(inc: IncidentDetail, nowMs: number): Record<string, unknown> {
  return {
    Event: {
      uuid: uuidv5(`incident:${inc.id}`, NS),
      info: inc.title,
      date: inc.awareAt.slice(0, 10),
      timestamp: String(Math.floor(nowMs / 1000)),
      threat_level_id: THREAT_LEVEL[inc.severity],
      // 0 initial, 1 ongoing, 2 completed
      analysis: inc.status === 'closed' ? '2' : '1',
      distribution: '0',
      published: false,
      Tag: [{ name: `rsit:${inc.rsitClass}="${inc.rsitType}"` }, { name: 'tlp:amber' }],
      Attribute: inc.alerts.flatMap(attributes),
    },
  };
}
