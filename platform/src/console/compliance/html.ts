import { type Assessment, type BatchRef, byProvision, type ProvisionRow, verdict } from './matrix.js';

/** One finding of the auditor's report and the signed batch it rests on. */
export interface CitedFinding {
  /** What was judged: a provision, a package, a sensor. */
  subject: string;
  /** pass, fail, unknown, vulnerable... (also the row's class). */
  status: string;
  detail: string;
}

/** One gateway's findings from one signed report. */
export interface ReportSection {
  deviceId: string;
  heading: string;
  reportedAt: string;
  source: BatchRef;
  findings: CitedFinding[];
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Everything from a device is text here, never markup. */
export const esc = (v: unknown): string => String(v).replace(/[&<>"']/g, (c) => ESC[c] as string);

/** The posture findings of an audit report: one per provision its checks cite. */
export function postureSection(a: Assessment): ReportSection {
  const findings: CitedFinding[] = [];
  for (const [key, checks] of byProvision(a)) {
    const v = verdict(checks);
    if (v === null) continue;
    findings.push({
      subject: key.replace('|', ' '),
      status: v,
      detail: checks.map((c) => `${c.id}: ${c.status}${c.detail ? ` (${c.detail})` : ''}`).join('; '),
    });
  }
  return {
    deviceId: a.deviceId,
    heading: 'Posture checks',
    reportedAt: a.reportedAt,
    source: a.source,
    findings,
  };
}

const cite = (s: BatchRef): string =>
  `<td class="cite" data-device="${esc(s.deviceId)}" data-stream="${esc(s.stream)}" data-epoch="${s.epoch}" ` +
  `data-seq="${s.seq}" data-hash="${esc(s.payloadHash ?? '')}">${esc(s.deviceId)} / ${esc(s.stream)} / epoch ${s.epoch} / seq ${s.seq}` +
  `<br><code>${s.payloadHash ? `SHA-256 ${esc(s.payloadHash)}` : 'batch no longer stored (retention)'}</code></td>`;

function section(s: ReportSection): string {
  const rows = s.findings
    .map(
      (f) =>
        `<tr class="finding ${esc(f.status)}"><td>${esc(f.subject)}</td><td>${esc(f.status)}</td>` +
        `<td>${esc(f.detail)}</td>${cite(s.source)}</tr>`,
    )
    .join('\n');
  return (
    `<h3>${esc(s.heading)} <small>(report of ${esc(s.reportedAt)})</small></h3>\n` +
    (s.findings.length === 0
      ? '<p>No findings in this report.</p>'
      : `<table><thead><tr><th>Subject</th><th>Result</th><th>Detail</th><th>Signed report batch</th></tr></thead>\n<tbody>${rows}</tbody></table>`)
  );
}

/**
 * The compliance report for people (the OSCAL export is the same for tools): a summary
 * of provisions × gateways, then per gateway every finding with the signed report batch
 * it comes from (device, stream, epoch, seq, payload hash), for checking against the chain.
 * Printable: no script, one stylesheet with print rules.
 */
export function auditorReportHtml(o: {
  title: string;
  now: number;
  matrix: ProvisionRow[];
  sections: ReportSection[];
}): string {
  const devices = [...new Set(o.sections.map((s) => s.deviceId))].sort();
  const pct = (p: ProvisionRow) =>
    p.share === null ? '—' : `${Math.round(p.share * 100)} % (${p.compliant}/${p.assessed})`;
  const summary = o.matrix
    .map((p) => `<tr><td>${esc(p.standard)}</td><td>${esc(p.provision)}</td><td>${pct(p)}</td></tr>`)
    .join('\n');
  const perGateway = devices
    .map(
      (d) =>
        `<section class="gateway" data-device="${esc(d)}"><h2>Gateway ${esc(d)}</h2>\n` +
        o.sections
          .filter((s) => s.deviceId === d)
          .map(section)
          .join('\n') +
        '</section>',
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(o.title)}</title>
<link rel="stylesheet" href="/assets/report.css"></head>
<body><header><h1>${esc(o.title)}</h1>
<p>Generated ${esc(new Date(o.now).toISOString())} by the edge-agent platform from the reports the gateways signed.
Each finding names the signed report batch it comes from: verify it against the device's chain
(<code>batches</code>: device, stream, epoch, seq; the SHA-256 of the batch payload).</p></header>
<h2>Summary: share of gateways compliant per provision</h2>
${summary ? `<table><thead><tr><th>Standard</th><th>Provision</th><th>Compliant</th></tr></thead><tbody>${summary}</tbody></table>` : '<p>No audit reports stored.</p>'}
${perGateway}
</body></html>
`;
}
