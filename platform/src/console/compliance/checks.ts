export interface Check {
  id: string;
  title: string;
  status: string;
  severity: number;
  etsi: string[];
  iec: string[];
  detail: string;
  evidence: unknown[];
}

/** The checks of an audit report body, or null when it is not one (a device's bytes, never trusted). */
export function checksOf(body: Uint8Array): Check[] | null {
  try {
    const r = JSON.parse(Buffer.from(body).toString('utf8')) as { checks?: unknown };
    if (!Array.isArray(r.checks)) return null;
    return r.checks
      .filter((c): c is Record<string, unknown> => typeof c === 'object' && c !== null)
      .map((c) => ({
        id: String(c.id ?? ''),
        title: String(c.title ?? ''),
        status: String(c.status ?? ''),
        severity: Number(c.severity ?? 0),
        etsi: Array.isArray(c.etsi) ? c.etsi.map(String) : [],
        iec: Array.isArray(c.iec) ? c.iec.map(String) : [],
        detail: String(c.detail ?? ''),
        evidence: Array.isArray(c.evidence) ? c.evidence.slice(0, 20) : [],
      }));
  } catch {
    return null;
  }
}
