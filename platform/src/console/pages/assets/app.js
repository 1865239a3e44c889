// The console's browser code. Everything from the API is put in the page as text
// (textContent), never as HTML: device names come from the field.
const main = document.getElementById('main');
let session = null;
const h = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) e.append(k instanceof Node ? k : document.createTextNode(String(k ?? '')));
  return e;
};
async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && session) headers['x-csrf-token'] = session.csrfToken;
  const r = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const data = await r.json().catch(() => ({}));
  if (r.status === 401 && path !== '/api/v1/login') {
    session = null;
    showLogin();
    throw new Error('log in first');
  }
  if (!r.ok) throw new Error((data.field ? `${data.field}: ` : '') + (data.reason || r.status));
  return data;
}
const sev = (s) => (s ? h('span', { class: `sev-${s}` }, s) : '');
const when = (t) => (t ? new Date(t).toISOString().replace('T', ' ').slice(0, 19) : '—');
const table = (head, rows, id) =>
  h(
    'table',
    { 'data-testid': id },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        head.map((x) => h('th', {}, x)),
      ),
    ),
    h('tbody', {}, rows),
  );

function showLogin(message) {
  document.getElementById('nav').hidden = true;
  const err = h('p', { class: 'error', 'data-testid': 'login-error' }, message || '');
  const form = h(
    'form',
    {
      class: 'login',
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          session = await api('POST', '/api/v1/login', {
            username: form.username.value,
            password: form.password.value,
          });
          start();
        } catch (e) {
          err.textContent = e.message;
        }
      },
    },
    h('label', {}, 'User ', h('input', { name: 'username', autocomplete: 'username', required: '' })),
    h(
      'label',
      {},
      'Password ',
      h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: '' }),
    ),
    h('button', { type: 'submit' }, 'Log in'),
    err,
  );
  main.replaceChildren(h('h1', {}, 'Log in'), form);
}

/** A button that fetches a JSON export and saves it as a file. */
const saveButton = (kind, label, path, name) =>
  h(
    'button',
    {
      type: 'button',
      'data-export': kind,
      onclick: async () => {
        const data = await api('GET', path);
        const a = h('a', {
          href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })),
          download: name,
        });
        document.body.append(a);
        a.click();
        a.remove();
      },
    },
    label,
  );

const views = {
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
    const canAct = session.role !== 'viewer';
    const act = (a, verb) =>
      h(
        'button',
        {
          type: 'button',
          'data-action': verb,
          onclick: async (ev) => {
            try {
              await api('POST', `/api/v1/alerts/${a.id}/${verb}`, {});
              render();
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
            { 'data-alert': a.id, 'data-type': a.type, 'data-state': a.state },
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
  async gateway(id) {
    const {
      gateway: g,
      posture,
      chains,
      events,
    } = await api('GET', `/api/v1/gateways/${encodeURIComponent(id)}`);
    const facts = [
      ['State', g.state || 'unknown'],
      ['Site', g.site || ''],
      ['Status since', when(g.statusAt)],
      ['Agent', g.agentVersion || ''],
      ['Certificate expires', when(g.certExpiresAt)],
      ['Posture score', posture?.score ?? '—'],
      [
        'Audit report',
        posture
          ? when(posture.reportedAt) +
            ' (reports epoch ' +
            posture.source.epoch +
            ' seq ' +
            posture.source.seq +
            ')'
          : 'none yet',
      ],
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
      h('h2', {}, 'Chain health'),
      table(
        ['Stream', 'Epoch', 'Contiguous', 'Highest', 'Explained gaps', 'Unexplained', 'Conflicts'],
        chainRows,
        'chains',
      ),
      h('h2', {}, 'Alerts'),
      ...(await views.alerts(id)).slice(1),
      h('h2', {}, 'Events'),
      table(['Time', 'Type', 'Subject'], timeline, 'timeline'),
    ];
  },
  async compliance() {
    const { gateways, provisions } = await api('GET', '/api/v1/compliance');
    const ids = gateways.map((g) => g.deviceId);
    const pct = (p) =>
      p.share === null ? '—' : `${Math.round(p.share * 100)} % (${p.compliant}/${p.assessed})`;
    return [
      h('h1', {}, 'Compliance'),
      h(
        'p',
        {},
        'Each provision per gateway, from the checks of its latest signed audit report that cite it. ',
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

async function render() {
  const [, view, arg] = (location.hash || '#/fleet').split('/');
  const fn = views[view] || views.fleet;
  try {
    main.replaceChildren(...(await fn(arg && decodeURIComponent(arg))));
  } catch (e) {
    if (session) main.replaceChildren(h('p', { class: 'error' }, e.message));
  }
}

let source = null;
function live() {
  source?.close();
  const foot = document.getElementById('live');
  source = new EventSource('/api/v1/events');
  source.onopen = () => {
    foot.dataset.state = 'open';
    foot.textContent = 'live: connected';
  };
  source.onerror = () => {
    foot.dataset.state = 'retrying';
    foot.textContent = 'live: reconnecting';
  };
  for (const kind of ['alert', 'status', 'incident']) source.addEventListener(kind, () => render());
}

function start() {
  document.getElementById('nav').hidden = false;
  document.getElementById('who').textContent = `${session.username} (${session.role})`;
  live();
  render();
}

window.addEventListener('hashchange', () => session && render());
document.getElementById('logout').addEventListener('click', async () => {
  await api('POST', '/api/v1/logout', {}).catch(() => {});
  source?.close();
  session = null;
  showLogin();
});
api('GET', '/api/v1/session').then(
  (s) => {
    session = s;
    start();
  },
  () => showLogin(),
);
