import type * as CycloneDX from '@cyclonedx/cyclonedx-library';
import { lazyPackage } from '../core/index.js';
import type { Finding, SoftwareComponent, SoftwareInventory } from './types.js';

/** The CycloneDX library (with its validators) only when a BOM is made, never for `status` (#12). */
const cyclonedx = lazyPackage<typeof CycloneDX>('@cyclonedx/cyclonedx-library');

export interface SbomOptions {
  /** The gateway: the BOM's subject. */
  deviceId: string;
  agentVersion: string;
  nowMs: number;
  /** `urn:uuid:...`, drawn by the caller (randomness is injected). */
  serialNumber: string;
  /** Vulnerable components, added as the BOM's `vulnerabilities` (a VDR). */
  findings?: Finding[];
  feedVersion?: number;
}

const TYPE = ({
  ComponentType,
}: typeof CycloneDX.Enums): Record<SoftwareComponent['kind'], CycloneDX.Enums.ComponentType> => ({
  deb: ComponentType.Library,
  npm: ComponentType.Library,
  kernel: ComponentType.OperatingSystem,
});
const SEVERITY = ({
  Vulnerability: { Severity },
}: typeof CycloneDX.Enums): Record<Finding['severity'], CycloneDX.Enums.Vulnerability.Severity> => ({
  critical: Severity.Critical,
  high: Severity.High,
  medium: Severity.Medium,
  low: Severity.Low,
  unknown: Severity.Unknown,
});

/** A UUID (version 4 layout) from 16 random bytes, for the BOM's serial number. */
export function serialFrom(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.subarray(0, 16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The inventory as a CycloneDX BOM (JSON text), made with the CycloneDX library. */
export function buildSbom(inv: SoftwareInventory, o: SbomOptions): string {
  const { Enums, Models, Serialize, Spec } = cyclonedx();
  const type = TYPE(Enums);
  const severity = SEVERITY(Enums);
  const bom = new Models.Bom({ serialNumber: o.serialNumber });
  bom.metadata.timestamp = new Date(o.nowMs);
  bom.metadata.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, 'edge-agent', {
      version: o.agentVersion,
      bomRef: 'tool:edge-agent',
    }),
  );
  bom.metadata.component = new Models.Component(Enums.ComponentType.Device, o.deviceId, {
    bomRef: `device:${o.deviceId}`,
  });
  if (inv.os)
    bom.metadata.component.properties.add(
      new Models.Property('edge-agent:os', inv.os.prettyName ?? inv.os.id),
    );
  if (o.feedVersion !== undefined)
    bom.metadata.properties.add(
      new Models.Property('edge-agent:vulnerabilities-feed', String(o.feedVersion)),
    );
  const byPurl = new Map<string, CycloneDX.Models.Component>();
  for (const c of inv.components) {
    if (byPurl.has(c.purl)) continue;
    const comp = new Models.Component(type[c.kind], c.name, {
      version: c.version,
      purl: c.purl,
      bomRef: c.purl,
    });
    if (c.source && c.source !== c.name)
      comp.properties.add(new Models.Property('edge-agent:deb:source', c.source));
    if (c.state) comp.properties.add(new Models.Property('edge-agent:deb:state', c.state));
    if (c.debianVersion)
      comp.properties.add(new Models.Property('edge-agent:kernel:debian-version', c.debianVersion));
    byPurl.set(c.purl, comp);
    bom.components.add(comp);
  }
  const byId = new Map<string, CycloneDX.Models.Vulnerability.Vulnerability>();
  for (const f of o.findings ?? []) {
    let v = byId.get(f.id);
    if (!v) {
      v = new Models.Vulnerability.Vulnerability({
        id: f.id,
        bomRef: `vuln:${f.id}`,
        description: f.summary,
        source: /^CVE-/.test(f.id)
          ? new Models.Vulnerability.Source({ name: 'NVD', url: `https://nvd.nist.gov/vuln/detail/${f.id}` })
          : undefined,
      });
      v.ratings.add(
        new Models.Vulnerability.Rating({
          severity: severity[f.severity],
          ...(f.cvss !== undefined
            ? { score: f.cvss, method: Enums.Vulnerability.RatingMethod.CVSSv31 }
            : {}),
        }),
      );
      if (f.kev) v.properties.add(new Models.Property('edge-agent:kev', 'true'));
      byId.set(f.id, v);
      bom.vulnerabilities.add(v);
    }
    const target = byPurl.get(f.component.purl);
    if (target) v.affects.add(new Models.Vulnerability.Affect(target.bomRef));
    if (f.fixed) v.properties.add(new Models.Property(`edge-agent:fixed:${f.component.name}`, f.fixed));
  }
  // CycloneDX 1.6 (1.5 or newer, as the issue asks).
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return serializer.serialize(bom, { sortLists: true });
}
