import { gunzipSync } from 'node:zlib';
import { FINDING_SEVERITIES, type FindingSeverity, type ParsedSbom, type SoftwareFinding } from './types.js';

/** A gateway's SBOM report is at most 200 KiB gzipped; this bounds what it may expand to. */
export const MAX_SBOM_JSON_BYTES = 32 * 1024 * 1024;
/**
 * One finding per vulnerability × affected component, each carrying its strings: a small
 * hostile BOM (one long description, many affects) would multiply into gigabytes stored and
 * stall the console. A gateway has a few thousand at worst; past this the report is refused.
 */
export const MAX_SBOM_FINDINGS = 20_000;
const MAX_SUMMARY = 500;
const MAX_FIELD = 256;
export const GZIP_SBOM = 'application/vnd.cyclonedx+json+gzip' as const;

/** An SBOM report the console cannot read, with the reason shown in its place. */
export class SbomReportError extends Error {
  readonly code = 'SBOM_UNREADABLE';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
/** A device's string as stored and shown: at most `max` characters, no NUL (jsonb refuses it). */
const clip = (v: string | null, max = MAX_FIELD): string | null => {
  if (v === null) return null;
  const t = v.replaceAll('\u0000', '\ufffd');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};
const prop = (o: Obj, name: string): string | null =>
  str(list(o.properties).find((p) => p.name === name)?.value);

/** The CycloneDX JSON text of a stored SBOM report (gunzipped when sent gzipped). */
export function sbomJson(body: Uint8Array, contentType: string): string {
  if (contentType !== GZIP_SBOM) return Buffer.from(body).toString('utf8');
  try {
    return gunzipSync(body, { maxOutputLength: MAX_SBOM_JSON_BYTES }).toString('utf8');
  } catch (e) {
    throw new SbomReportError(`not gzip or too large: ${(e as Error).message}`);
  }
}

/**
 * The components and vulnerabilities of a gateway's CycloneDX SBOM (the agent adds its
 * findings as the BOM's `vulnerabilities`, a VDR): one finding per vulnerability and
 * affected component. A device's bytes: anything not CycloneDX throws SbomReportError.
 */
export function parseSbom(json: string): ParsedSbom {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new SbomReportError(`not JSON: ${(e as Error).message}`);
  }
  if (!isObj(doc) || doc.bomFormat !== 'CycloneDX')
    throw new SbomReportError('not a CycloneDX BOM (bomFormat is not "CycloneDX")');
  const components = list(doc.components);
  const byRef = new Map(components.map((c) => [str(c['bom-ref']) ?? str(c.purl) ?? '', c]));
  const meta = isObj(doc.metadata) ? doc.metadata : {};
  const feed = Number(prop(meta, 'edge-agent:vulnerabilities-feed'));
  const findings: SoftwareFinding[] = [];
  for (const v of list(doc.vulnerabilities)) {
    const rating = list(v.ratings)[0] ?? {};
    const sev = str(rating.severity) ?? 'unknown';
    const severity: FindingSeverity = (FINDING_SEVERITIES as readonly string[]).includes(sev)
      ? (sev as FindingSeverity)
      : 'unknown';
    for (const a of list(v.affects)) {
      if (findings.length === MAX_SBOM_FINDINGS)
        throw new SbomReportError(
          `more than ${MAX_SBOM_FINDINGS} findings (vulnerability × affected component)`,
        );
      const c = byRef.get(str(a.ref) ?? '');
      const name = str(c?.name) ?? str(a.ref) ?? '';
      findings.push({
        package: clip(name) ?? '',
        version: clip(str(c?.version)) ?? '',
        purl: clip(str(c?.purl) ?? str(a.ref)) ?? '',
        cve: clip(str(v.id)) ?? '',
        severity,
        cvss: typeof rating.score === 'number' ? rating.score : null,
        kev: prop(v, 'edge-agent:kev') === 'true',
        fixed: clip(prop(v, `edge-agent:fixed:${name}`)),
        summary: clip(str(v.description), MAX_SUMMARY),
      });
    }
  }
  const rank = (f: SoftwareFinding) => (f.kev ? -1 : FINDING_SEVERITIES.indexOf(f.severity));
  findings.sort(
    (x, y) => rank(x) - rank(y) || x.package.localeCompare(y.package) || x.cve.localeCompare(y.cve),
  );
  const device = isObj(meta.component) ? meta.component : {};
  return {
    components: components.length,
    serialNumber: clip(str(doc.serialNumber)),
    feedVersion: Number.isFinite(feed) && feed > 0 ? feed : null,
    os: clip(prop(device, 'edge-agent:os')),
    findings,
  };
}

/** Distinct packages with findings; with a known exploited one; with a critical one. */
export function packageCounts(findings: SoftwareFinding[]): {
  vulnerable: number;
  kev: number;
  critical: number;
} {
  const of = (pred: (f: SoftwareFinding) => boolean) =>
    new Set(findings.filter(pred).map((f) => f.purl)).size;
  return {
    vulnerable: of(() => true),
    kev: of((f) => f.kev),
    critical: of((f) => f.severity === 'critical'),
  };
}
