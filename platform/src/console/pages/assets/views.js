// The console's views: one function per page, each returning the elements to show.
import { shareChart } from './charts.js';
import { gatewayView } from './gateway.js';
import { api, h, saveButton, sev, state, table, when } from './lib.js';

/** The fleet's "vulnerable packages" cell: count, then known exploited and critical ones. */
const packages = (s) =>
  !s
    ? '—'
    : s.problem
      ? 'SBOM unreadable'
      : `${s.vulnerablePackages} (KEV ${s.kevPackages}, critical ${s.criticalPackages})`;

export const views = {
  async fleet() {
    const { gateways } = await api('GET', '/api/v1/fleet');
    return [
      h('h1', {}, `Fleet (${gateways.length} gateways)`),
      table(
        [
          'Gateway',
          'Site',
          'State',
          'Last seen',
          'Posture',
          'Open alerts',
          'Worst',
          'Vulnerable sensors',
          'Vulnerable packages',
          'Missing batches',
        ],
        gateways.map((g) =>
          h(
            'tr',
            { 'data-device': g.deviceId },
            h('td', {}, h('a', { href: `#/gateway/${encodeURIComponent(g.deviceId)}` }, g.deviceId)),
            h('td', {}, g.site || ''),
            h('td', { class: g.state }, g.state),
            h('td', {}, when(g.lastSeen)),
            h('td', {}, g.postureScore ?? '—'),
            h('td', { 'data-testid': 'open-alerts' }, g.openAlerts),
            h('td', {}, sev(g.worstSeverity)),
            h('td', {}, g.vulnerableSensors),
            h('td', { 'data-testid': 'vulnerable-packages' }, packages(g.software)),
            h('td', {}, g.missingBatches),
          ),
        ),
        'fleet',
      ),
    ];
  },
  async map() {
    const { gateways } = await api('GET', '/api/v1/fleet');
    const placed = gateways.filter((g) => g.lat !== null && g.lon !== null);
    const W = 800,
      H = 500,
      pad = 40;
    const lats = placed.map((g) => g.lat),
      lons = placed.map((g) => g.lon);
    const [a, b, c, d] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
    const x = (lon) => pad + (d === c ? 0.5 : (lon - c) / (d - c)) * (W - 2 * pad);
    const y = (lat) => H - pad - (b === a ? 0.5 : (lat - a) / (b - a)) * (H - 2 * pad);
    const colour = { critical: '#7f1d1d', high: '#dc2626', medium: '#f59e0b', low: '#10b981' };
    const NS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.setAttribute('width', W);
    svg.setAttribute('height', H);
    svg.setAttribute('data-testid', 'map');
    for (const g of placed) {
      const link = document.createElementNS(NS, 'a');
      link.setAttribute('href', `#/gateway/${encodeURIComponent(g.deviceId)}`);
      const dot = document.createElementNS(NS, 'circle');
      dot.setAttribute('cx', x(g.lon));
      dot.setAttribute('cy', y(g.lat));
      dot.setAttribute('r', 9);
      dot.setAttribute('fill', g.state === 'offline' ? '#6b7280' : colour[g.worstSeverity] || '#2563eb');
      dot.setAttribute('data-device', g.deviceId);
      const label = document.createElementNS(NS, 'text');
      label.setAttribute('x', x(g.lon) + 12);
      label.setAttribute('y', y(g.lat) + 4);
      label.textContent = g.deviceId;
      link.append(dot, label);
      svg.append(link);
    }
    return [
      h('h1', {}, 'City map'),
      h(
        'p',
        {},
        'Cabinets at their registry coordinates, coloured by their worst open alert (grey: offline).',
      ),
      svg,
    ];
  },
  async alerts(device) {
    const { alerts } = await api(
      'GET',
      `/api/v1/alerts${device ? `?device=${encodeURIComponent(device)}` : ''}`,
    );
    const canAct = state.session.role !== 'viewer';
    const act = (a, verb) =>
      h(
        'button',
        {
          type: 'button',
          'data-action': verb,
          onclick: async (ev) => {
            try {
              await api('POST', `/api/v1/alerts/${a.id}/${verb}`, {});
              state.render();
            } catch (e) {
              ev.target.parentNode.append(
                h('span', { class: 'error', 'data-testid': 'action-error' }, ` ${e.message}`),
              );
            }
          },
        },
        verb,
      );
    return [
      h('h1', {}, device ? `Alerts of ${device}` : 'Alerts'),
      table(
        ['#', 'Gateway', 'Type', 'Subject', 'Severity', 'Count', 'Last', 'State', 'Assignee', ''],
        alerts.map((a) =>
          h(
            'tr',
            { 'data-alert': a.id, 'data-type': a.type, 'data-state': a.state, 'data-device': a.deviceId },
            h('td', {}, a.id),
            h('td', {}, a.deviceId),
            h('td', {}, a.type),
            h('td', {}, a.subject),
            h('td', {}, sev(a.severity)),
            h('td', {}, a.count),
            h('td', {}, when(a.lastAt)),
            h('td', { class: 'state' }, a.state),
            h('td', {}, a.assignee || ''),
            h(
              'td',
              {},
              a.state === 'open' ? act(a, 'acknowledge') : '',
              a.state !== 'resolved' && canAct ? act(a, 'resolve') : '',
            ),
          ),
        ),
        'alerts',
      ),
    ];
  },
  gateway: (id) => gatewayView(id, views.alerts),
  async compliance() {
    const [{ gateways, provisions }, history] = await Promise.all([
      api('GET', '/api/v1/compliance'),
      api('GET', '/api/v1/compliance/history?days=30'),
    ]);
    const ids = gateways.map((g) => g.deviceId);
    const pct = (p) =>
      p.share === null ? '—' : `${Math.round(p.share * 100)} % (${p.compliant}/${p.assessed})`;
    return [
      h('h1', {}, 'Compliance'),
      h(
        'p',
        {},
        'Each provision per gateway, from the checks of its latest signed audit report that cite it. ',
        h(
          'a',
          { href: '/api/v1/compliance/report.html', target: '_blank', 'data-testid': 'report-html' },
          'Printable report for the auditor (HTML)',
        ),
        ' ',
        saveButton(
          'oscal',
          'OSCAL assessment results',
          '/api/v1/compliance/oscal',
          'fleet-oscal-assessment-results.json',
        ),
      ),
      table(
        ['Standard', 'Provision', ...ids, 'Compliant'],
        provisions.map((p) =>
          h(
            'tr',
            { 'data-provision': `${p.standard} ${p.provision}` },
            h('td', {}, p.standard),
            h('td', {}, p.provision),
            ids.map((id) => h('td', { class: p.results[id] || '', 'data-device': id }, p.results[id] || '—')),
            h('td', { 'data-testid': 'share' }, pct(p)),
          ),
        ),
        'compliance',
      ),
      h('h2', {}, 'Over time'),
      h(
        'p',
        {},
        history.days.length
          ? `Share of gateways compliant per provision by day, ${history.days[0]} to ${history.days.at(-1)}, from the stored audit report history.`
          : 'No audit reports stored yet.',
      ),
      table(
        ['Standard', 'Provision', 'Share compliant by day', 'Latest'],
        history.provisions.map((p) =>
          h(
            'tr',
            { 'data-provision': `${p.standard} ${p.provision}` },
            h('td', {}, p.standard),
            h('td', {}, p.provision),
            h('td', {}, shareChart(history.days, p.share)),
            h('td', {}, p.share.at(-1) === null ? '—' : `${Math.round(p.share.at(-1) * 100)} %`),
          ),
        ),
        'compliance-history',
      ),
    ];
  },
  async incidents() {
    const { incidents } = await api('GET', '/api/v1/incidents');
    const download = (i, kind) =>
      saveButton(
        kind,
        kind.toUpperCase(),
        `/api/v1/incidents/${i.id}/${kind}`,
        `incident-${i.id}-${kind}.json`,
      );
    return [
      h('h1', {}, 'Incidents'),
      table(
        ['#', 'Title', 'Severity', 'RSIT', 'Aware since', 'NIS2 clocks', 'Export'],
        incidents.map((i) =>
          h(
            'tr',
            { 'data-incident': i.id },
            h('td', {}, i.id),
            h('td', {}, i.title),
            h('td', {}, sev(i.severity)),
            h('td', {}, `${i.rsitClass}/${i.rsitType}`),
            h('td', {}, when(i.awareAt)),
            h(
              'td',
              {},
              i.clocks.map((c) =>
                h(
                  'div',
                  { class: c.status },
                  c.stage +
                    ': ' +
                    (c.status === 'done'
                      ? `sent ${when(c.submittedAt)}`
                      : `due ${when(c.dueAt)} (${c.status})`),
                ),
              ),
            ),
            h('td', {}, download(i, 'stix'), download(i, 'misp')),
          ),
        ),
        'incidents',
      ),
    ];
  },
};
