import type { Profile } from './profiles.js';
import type { Assessed, Device } from './types.js';

/** Numeric, dotted comparison of firmware revisions ("1.10" > "1.9"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.\-_]/).map((x) => Number.parseInt(x, 10));
  const pb = b.split(/[.\-_]/).map((x) => Number.parseInt(x, 10));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = Number.isNaN(pa[i]) ? 0 : (pa[i] ?? 0);
    const y = Number.isNaN(pb[i]) ? 0 : (pb[i] ?? 0);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** The profile a device matches, if any. */
export function profileOf(d: Device, profiles: Profile[]): Profile | undefined {
  if (d.bus === 'declared') return profiles.find((p) => p.id === d.declaredModel);
  return profiles.find((p) =>
    p.match.some(
      (m) =>
        (m.usb && d.bus === 'usb' && m.usb.vendorId === d.vendorId && m.usb.productId === d.productId) ||
        (m.productPattern &&
          d.bus === 'usb' &&
          d.product !== undefined &&
          new RegExp(m.productPattern).test(d.product)) ||
        (m.w1Family && d.bus === 'w1' && d.productId === m.w1Family) ||
        (m.i2cName && d.bus === 'i2c' && d.product === m.i2cName) ||
        (m.macPrefix && d.bus === 'lan' && d.mac?.startsWith(m.macPrefix)),
    ),
  );
}

/**
 * A verdict for each device: approved, unknown model, unknown firmware,
 * vulnerable (with CVEs), unsupported, or declared but missing.
 */
export function assess(
  devices: Device[],
  profiles: Profile[],
  nowMs: number,
  present: Set<string>,
): Assessed[] {
  return devices.map((d) => {
    if (d.bus === 'declared' && d.location !== d.sensorId && !present.has(d.location)) {
      return {
        ...d,
        verdict: 'declared-missing' as const,
        model: d.declaredModel,
        cves: [],
        note: `expected at ${d.location}`,
      };
    }
    const p = profileOf(d, profiles);
    if (!p) return { ...d, verdict: 'unknown-model' as const, cves: [] };
    const base = { ...d, model: `${p.vendor} ${p.model}`, note: p.notes };
    if (p.supported === false || (p.endOfSupport && Date.parse(p.endOfSupport) < nowMs)) {
      return { ...base, verdict: 'unsupported' as const, cves: [] };
    }
    const cves = (p.vulnerabilities ?? [])
      .filter((v) =>
        v.firmwareBelow === undefined
          ? true
          : d.firmware !== undefined && compareVersions(d.firmware, v.firmwareBelow) < 0,
      )
      .map((v) => ({ id: v.cve, severity: v.severity }));
    if (cves.length > 0) return { ...base, verdict: 'vulnerable' as const, cves };
    if (p.approvedFirmware && (!d.firmware || !p.approvedFirmware.includes(d.firmware)))
      return { ...base, verdict: 'unknown-firmware' as const, cves };
    return { ...base, verdict: 'approved' as const, cves };
  });
}
