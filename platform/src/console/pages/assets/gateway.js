// The gateway page: registry facts, posture checks, the gateway's own software (#17),
// chain health, its alerts and its events.
import { sensorChart } from './charts.js';
import { api, h, sev, table, when } from './lib.js';

const batch = (s) => `reports epoch ${s.epoch} seq ${s.seq}`;

/** The SBOM summary, a link to the stored CycloneDX JSON, and the vulnerable packages. */
function software(id, sw) {
  if (!sw) return [h('h2', {}, 'Software'), h('p', { 'data-testid': 'sbom' }, 'No SBOM report yet.')];
  const s = sw.sbom;
  const summary = h(
    'p',
    { 'data-testid': 'sbom', 'data-components': s.components },
    `${s.components} components${s.os ? ` on ${s.os}` : ''}, SBOM of ${when(s.reportedAt)} (${batch(s.source)})` +
      `${s.feedVersion ? `, judged with vulnerability feed v${s.feedVersion}` : ', no vulnerability feed in force'}. `,
    h(
      'a',
      {
        href: `/api/v1/gateways/${encodeURIComponent(id)}/sbom`,
        download: `${id}-sbom.cdx.json`,
        'data-testid': 'sbom-download',
      },
      'Download the CycloneDX SBOM',
    ),
  );
  const problem = s.problem
    ? h('p', { class: 'error', 'data-testid': 'sbom-problem' }, `Unreadable SBOM: ${s.problem}`)
    : '';
  const rows = sw.findings.map((f) =>
    h(
      'tr',
      { 'data-package': f.package, 'data-cve': f.cve, 'data-kev': String(f.kev) },
      h('td', {}, f.package),
      h('td', {}, f.version),
      h('td', {}, f.cve),
      h('td', {}, sev(f.severity === 'unknown' ? null : f.severity) || 'unknown'),
      h('td', {}, f.cvss ?? '—'),
      h('td', { class: f.kev ? 'kev' : '' }, f.kev ? 'known exploited' : ''),
      h('td', {}, f.fixed ?? 'no fix yet'),
    ),
  );
  return [
    h(
      'h2',
      {},
      `Software: ${s.vulnerablePackages} vulnerable packages (KEV ${s.kevPackages}, critical ${s.criticalPackages})`,
    ),
    summary,
    problem,
    table(['Package', 'Version', 'CVE', 'Severity', 'CVSS', 'KEV', 'Fixed in'], rows, 'software'),
  ];
}

/** Sensors with their firmware verdicts, from the latest inventory report. */
function sensors(inv) {
  if (!inv) return [h('h2', {}, 'Sensors'), h('p', {}, 'No inventory report yet.')];
  const rows = inv.sensors.map((d) =>
    h(
      'tr',
      { 'data-location': d.location, 'data-verdict': d.verdict },
      h('td', {}, d.location),
      h('td', {}, d.bus),
      h('td', {}, d.model ?? '—'),
      h('td', {}, d.firmware ?? '—'),
      h('td', { class: `verdict-${d.verdict}` }, d.verdict),
      h('td', {}, d.cves.map((c) => `${c.id} (${c.severity})`).join(', ')),
      h('td', {}, d.note ?? ''),
    ),
  );
  return [
    h('h2', {}, 'Sensors'),
    h('p', {}, `Inventory of ${when(inv.reportedAt)} (${batch(inv.source)}).`),
    table(['Location', 'Bus', 'Model', 'Firmware', 'Verdict', 'CVEs', 'Note'], rows, 'sensors'),
  ];
}

/** Readings by sensor over the last day of data the gateway sent. */
async function charts(id) {
  const t = await api('GET', `/api/v1/gateways/${encodeURIComponent(id)}/telemetry?hours=24`);
  const body = t.series.length
    ? h(
        'div',
        { class: 'charts', 'data-testid': 'telemetry' },
        t.series.map((x) => sensorChart(x, t.from, t.to)),
      )
    : h('p', { 'data-testid': 'telemetry' }, 'No numeric readings stored.');
  return [h('h2', {}, `Telemetry (${when(t.from)} to ${when(t.to)})`), body];
}

export async function gatewayView(id, alertsView) {
  const {
    gateway: g,
    posture,
    sensors: sensorsInv,
    chains,
    events,
    software: sw,
  } = await api('GET', `/api/v1/gateways/${encodeURIComponent(id)}`);
  const facts = [
    ['State', g.state || 'unknown'],
    ['Site', g.site || ''],
    ['Status since', when(g.statusAt)],
    ['Agent', g.agentVersion || ''],
    ['Certificate expires', when(g.certExpiresAt)],
    ['Posture score', posture?.score ?? '—'],
    ['Audit report', posture ? `${when(posture.reportedAt)} (${batch(posture.source)})` : 'none yet'],
  ];
  const checks = (posture?.checks || []).map((c) =>
    h(
      'tr',
      { 'data-check': c.id, 'data-status': c.status },
      h('td', {}, c.id),
      h('td', {}, c.title),
      h('td', {}, c.status),
      h('td', {}, c.etsi.join(', ')),
      h('td', {}, c.iec.join(', ')),
      h('td', {}, c.detail),
    ),
  );
  const chainRows = chains.map((c) =>
    h(
      'tr',
      {},
      h('td', {}, c.stream),
      h('td', {}, c.epoch),
      h('td', {}, c.contiguous),
      h('td', {}, c.highest),
      h('td', {}, c.explained),
      h('td', { class: c.missing > 0 ? 'overdue' : '' }, c.missing),
      h('td', {}, c.conflicts),
    ),
  );
  const timeline = events.map((e) =>
    h('tr', {}, h('td', {}, when(e.ts)), h('td', {}, e.type), h('td', {}, e.subject)),
  );
  return [
    h('h1', {}, `Gateway ${id}`),
    table(
      ['', ''],
      facts.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v))),
      'gateway',
    ),
    h('h2', {}, 'Posture checks'),
    h(
      'p',
      {},
      h(
        'a',
        {
          href: `/api/v1/compliance/report.html?device=${encodeURIComponent(id)}`,
          target: '_blank',
          'data-testid': 'report-html',
        },
        'Printable compliance report of this gateway (HTML)',
      ),
    ),
    table(['Check', 'Title', 'Status', 'ETSI EN 303 645', 'IEC 62443-4-2', 'Detail'], checks, 'checks'),
    ...sensors(sensorsInv),
    ...(await charts(id)),
    ...software(id, sw),
    h('h2', {}, 'Chain health'),
    table(
      ['Stream', 'Epoch', 'Contiguous', 'Highest', 'Explained gaps', 'Unexplained', 'Conflicts'],
      chainRows,
      'chains',
    ),
    h('h2', {}, 'Alerts'),
    ...(await alertsView(id)).slice(1),
    h('h2', {}, 'Events'),
    table(['Time', 'Type', 'Subject'], timeline, 'timeline'),
  ];
}
