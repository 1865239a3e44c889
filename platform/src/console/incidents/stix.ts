import { createHash } from 'node:crypto';
import type { Alert } from '../alerts/index.js';
import type { IncidentDetail } from './types.js';

/** STIX 2.1's namespace for deterministic SCO ids (section 2.9). */
const SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';
/** This console's namespace for its SDO ids: one export of one incident always has the same ids. */
const SDO_NAMESPACE = '5d0a7c5e-3b0c-4e59-9a57-6a8f0e3b7c21';

/** RFC 4122 version 5 (SHA-1, name-based) UUID. */
export function uuidv5(name: string, namespace: string): string {
  const h = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name)
    .digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

type Obj = Record<string, unknown> & { type: string; id: string };
const sdoId = (type: string, key: string): string => `${type}--${uuidv5(key, SDO_NAMESPACE)}`;
const scoId = (type: string, contributing: unknown): string =>
  `${type}--${uuidv5(JSON.stringify(contributing), SCO_NAMESPACE)}`;
/** A string inside a STIX pattern literal. */
const lit = (s: string): string => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** The observables of one alert: the evidence record always, the file, software or certificate it names when it names one. */
function observables(a: Alert): { scos: Obj[]; pattern: string | null } {
  const payload = Buffer.from(
    JSON.stringify({ device: a.deviceId, type: a.type, subject: a.subject, evidence: a.evidence }),
  );
  const sha = createHash('sha256').update(payload).digest('hex');
  const artifact: Obj = {
    type: 'artifact',
    spec_version: '2.1',
    id: scoId('artifact', { hashes: { 'SHA-256': sha } }),
    mime_type: 'application/json',
    payload_bin: payload.toString('base64'),
    hashes: { 'SHA-256': sha },
  };
  if (a.type === 'integrity_change') {
    const name = a.subject.split('/').pop() || a.subject;
    const file: Obj = { type: 'file', spec_version: '2.1', id: scoId('file', { name }), name };
    return { scos: [artifact, file], pattern: `[file:name = ${lit(name)}]` };
  }
  if (a.type === 'vulnerable_firmware') {
    const details = (a.evidence.details ?? {}) as Record<string, string>;
    const version = details.firmware ?? 'unknown';
    const sw: Obj = {
      type: 'software',
      spec_version: '2.1',
      id: scoId('software', { name: a.subject, version }),
      name: a.subject,
      version,
    };
    return {
      scos: [artifact, sw],
      pattern: `[software:name = ${lit(a.subject)} AND software:version = ${lit(version)}]`,
    };
  }
  const fp =
    typeof a.evidence.fingerprint === 'string'
      ? a.evidence.fingerprint.replaceAll(':', '').toLowerCase()
      : '';
  if (a.type === 'certificate_expiring' && /^[0-9a-f]{64}$/.test(fp)) {
    const cert: Obj = {
      type: 'x509-certificate',
      spec_version: '2.1',
      id: scoId('x509-certificate', { hashes: { 'SHA-256': fp } }),
      hashes: { 'SHA-256': fp },
      validity_not_after: a.evidence.expiresAt,
    };
    return { scos: [artifact, cert], pattern: `[x509-certificate:hashes.'SHA-256' = ${lit(fp)}]` };
  }
  return { scos: [artifact], pattern: null };
}

/**
 * An incident as a STIX 2.1 bundle: the incident, each gateway as an identity (class
 * `system`), per alert its observed data (with the evidence as an artifact) and, where
 * the alert names something a pattern can match, an indicator; all tied to the incident.
 */
export function stixBundle(inc: IncidentDetail, nowMs: number): Record<string, unknown> {
  const at = new Date(nowMs).toISOString();
  const key = `incident:${inc.id}`;
  const incidentId = sdoId('incident', key);
  const objects: Obj[] = [
    {
      type: 'incident',
      spec_version: '2.1',
      id: incidentId,
      created: inc.createdAt,
      modified: at,
      name: inc.title,
      description:
        `${inc.summary}\nRSIT: ${inc.rsitClass}/${inc.rsitType}; severity ${inc.severity}; aware since ${inc.awareAt}`.trim(),
      labels: [`rsit:${inc.rsitClass}="${inc.rsitType}"`],
    },
  ];
  const rel = (source: string, target: string) =>
    objects.push({
      type: 'relationship',
      spec_version: '2.1',
      id: sdoId('relationship', `${key}:${source}:${target}`),
      created: inc.createdAt,
      modified: at,
      relationship_type: 'related-to',
      source_ref: source,
      target_ref: target,
    });
  for (const d of inc.devices) {
    const id = sdoId('identity', `device:${d.deviceId}`);
    objects.push({
      type: 'identity',
      spec_version: '2.1',
      id,
      created: inc.createdAt,
      modified: at,
      name: d.deviceId,
      identity_class: 'system',
      ...(d.site
        ? { description: `gateway at ${d.site}${d.lat !== null ? ` (${d.lat}, ${d.lon})` : ''}` }
        : {}),
    });
    rel(incidentId, id);
  }
  for (const a of inc.alerts) {
    const { scos, pattern } = observables(a);
    objects.push(...scos);
    const od = sdoId('observed-data', `${key}:alert:${a.id}`);
    objects.push({
      type: 'observed-data',
      spec_version: '2.1',
      id: od,
      created: a.firstAt,
      modified: at,
      first_observed: a.firstAt,
      last_observed: a.lastAt,
      number_observed: Math.max(1, Math.min(a.count, 999_999_999)),
      object_refs: scos.map((s) => s.id),
      labels: [a.type, `device:${a.deviceId}`],
    });
    rel(od, incidentId);
    if (pattern) {
      const ind = sdoId('indicator', `${key}:alert:${a.id}`);
      objects.push({
        type: 'indicator',
        spec_version: '2.1',
        id: ind,
        created: a.firstAt,
        modified: at,
        name: `${a.type} ${a.subject} on ${a.deviceId}`,
        indicator_types: ['compromised'],
        pattern,
        pattern_type: 'stix',
        valid_from: a.firstAt,
      });
      rel(ind, incidentId);
    }
  }
  const unique = [...new Map(objects.map((o) => [o.id, o])).values()];
  return { type: 'bundle', id: `bundle--${uuidv5(`${key}:${at}`, SDO_NAMESPACE)}`, objects: unique };
}
