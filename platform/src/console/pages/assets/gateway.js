// The gateway page: registry facts, posture checks, the gateway's own software (#17),
// chain health, its alerts and its events.
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

export async function gatewayView(id, alertsView) {
  const {
    gateway: g,
    posture,
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
    table(['Check', 'Title', 'Status', 'ETSI EN 303 645', 'IEC 62443-4-2', 'Detail'], checks, 'checks'),
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
