// The console's browser helpers: elements, the API client (session and CSRF token), tables.
// Everything from the API is put in the page as text (textContent), never as HTML.

/** The page's shared state; app.js sets the hooks. */
export const state = { session: null, onUnauthenticated: () => {}, render: () => {} };
export const h = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) e.append(k instanceof Node ? k : document.createTextNode(String(k ?? '')));
  return e;
};
export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && state.session) headers['x-csrf-token'] = state.session.csrfToken;
  const r = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const data = await r.json().catch(() => ({}));
  if (r.status === 401 && path !== '/api/v1/login') {
    state.session = null;
    state.onUnauthenticated();
    throw new Error('log in first');
  }
  if (!r.ok) throw new Error((data.field ? `${data.field}: ` : '') + (data.reason || r.status));
  return data;
}
export const sev = (s) => (s ? h('span', { class: `sev-${s}` }, s) : '');
export const when = (t) => (t ? new Date(t).toISOString().replace('T', ' ').slice(0, 19) : '—');
export const table = (head, rows, id) =>
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

/** A button that fetches a JSON export and saves it as a file. */
export const saveButton = (kind, label, path, name) =>
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
