import { randomUUID } from 'node:crypto';
import { type Assessment, byProvision, verdict } from './matrix.js';

/** Where the console's own OSCAL property names live (OSCAL asks for a namespace on non-core props). */
export const OSCAL_NS = 'https://edge-agent.invalid/ns/oscal';
const OSCAL_VERSION = '1.1.2';

const prop = (name: string, value: string | number) => ({ name, ns: OSCAL_NS, value: String(value) });
/** A provision as an OSCAL token: `ETSI EN 303 645` + `5.1-1` -> `etsi-en-303-645_5.1-1`. */
export const targetId = (standard: string, provision: string): string =>
  `${standard}_${provision}`.toLowerCase().replace(/[^a-z0-9._-]+/g, '-');

/**
 * An OSCAL assessment-results document over the gateways' latest audit reports: one
 * observation per report, whose evidence is the signed batch it came in (device, stream,
 * epoch, seq, payload hash), and one finding per gateway and provision citing it again.
 */
export function oscalAssessmentResults(
  assessments: Assessment[],
  opts: { now: number; title: string; uuid?: () => string },
): Record<string, unknown> {
  const uuid = opts.uuid ?? randomUUID;
  const now = new Date(opts.now).toISOString();
  const items: Record<string, unknown>[] = [];
  const observations: Record<string, unknown>[] = [];
  const findings: Record<string, unknown>[] = [];
  for (const a of assessments) {
    const item = uuid();
    const observation = uuid();
    const s = a.source;
    const batch = [
      prop('device', s.deviceId),
      prop('stream', s.stream),
      prop('epoch', s.epoch),
      prop('seq', s.seq),
      ...(s.payloadHash ? [prop('payload-hash-sha256', s.payloadHash)] : []),
    ];
    items.push({
      uuid: item,
      description: `Gateway ${a.deviceId}`,
      props: [{ name: 'asset-id', value: a.deviceId }, prop('asset-kind', 'iot-gateway')],
    });
    observations.push({
      uuid: observation,
      title: `Audit report of ${a.deviceId}`,
      description: `${a.checks.length} posture checks reported by the agent at ${a.reportedAt}, signed by the device.`,
      methods: ['TEST'],
      types: ['finding'],
      subjects: [{ 'subject-uuid': item, type: 'inventory-item' }],
      'relevant-evidence': [
        {
          href: `urn:edge-agent:batch:${encodeURIComponent(s.deviceId)}:${s.stream}:${s.epoch}:${s.seq}`,
          description: `Signed report batch: device ${s.deviceId}, stream ${s.stream}, epoch ${s.epoch}, seq ${s.seq}${s.payloadHash ? `, payload SHA-256 ${s.payloadHash}` : ''}.`,
          props: batch,
        },
      ],
      collected: a.reportedAt,
    });
    for (const [key, checks] of byProvision(a)) {
      const v = verdict(checks);
      if (v === null) continue;
      const [standard, provision] = key.split('|');
      findings.push({
        uuid: uuid(),
        title: `${standard} ${provision} on ${a.deviceId}`,
        description: checks.map((c) => `${c.id}: ${c.status}${c.detail ? ` (${c.detail})` : ''}`).join('; '),
        props: [prop('standard', standard), prop('provision', provision), ...batch],
        target: {
          type: 'objective-id',
          'target-id': targetId(standard, provision),
          status: {
            state: v === 'pass' ? 'satisfied' : 'not-satisfied',
            reason: v === 'unknown' ? 'other' : v,
          },
        },
        'related-observations': [{ 'observation-uuid': observation }],
      });
    }
  }
  return {
    'assessment-results': {
      uuid: uuid(),
      metadata: { title: opts.title, 'last-modified': now, version: now, 'oscal-version': OSCAL_VERSION },
      'import-ap': { href: '#edge-agent-posture-checks' },
      results: [
        {
          uuid: uuid(),
          title: opts.title,
          description:
            'Posture checks reported by the edge agents (ETSI EN 303 645 and IEC 62443-4-2 references), as stored by the platform.',
          start: assessments.map((a) => a.reportedAt).sort()[0] ?? now,
          end: now,
          'local-definitions': { 'inventory-items': items },
          'reviewed-controls': { 'control-selections': [{ 'include-all': {} }] },
          ...(observations.length > 0 ? { observations } : {}),
          ...(findings.length > 0 ? { findings } : {}),
        },
      ],
    },
  };
}
