// The console's browser code. Everything from the API is put in the page as text
// (textContent), never as HTML: device names come from the field.
import { api, h, state } from './lib.js';
import { views } from './views.js';

const main = document.getElementById('main');
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
          state.session = await api('POST', '/api/v1/login', {
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

// Renders overlap (a live event re-renders the page while the user follows a link): only
// the newest may fill the page, or a slow fleet render finishing last would cover the
// incidents page the user opened after it.
let rendering = 0;
async function render() {
  const mine = ++rendering;
  const [, view, arg] = (location.hash || '#/fleet').split('/');
  const fn = views[view] || views.fleet;
  try {
    const nodes = await fn(arg && decodeURIComponent(arg));
    if (mine === rendering) main.replaceChildren(...nodes);
  } catch (e) {
    if (state.session && mine === rendering) main.replaceChildren(h('p', { class: 'error' }, e.message));
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
  document.getElementById('who').textContent = `${state.session.username} (${state.session.role})`;
  live();
  render();
}

state.render = render;
state.onUnauthenticated = () => showLogin();
window.addEventListener('hashchange', () => state.session && render());
document.getElementById('logout').addEventListener('click', async () => {
  await api('POST', '/api/v1/logout', {}).catch(() => {});
  source?.close();
  state.session = null;
  showLogin();
});
api('GET', '/api/v1/session').then(
  (s) => {
    state.session = s;
    start();
  },
  () => showLogin(),
);
