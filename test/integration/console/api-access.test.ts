import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Console, MIN_KDF, usersAdd } from '../../../platform/src/console/index.js';
import { ConsoleClient } from '../../helpers/console.js';
import { consolePki, testConsole } from '../../helpers/console-world.js';
import { postgresDb, type TestDb } from '../../helpers/platform-db.js';

const FAST = MIN_KDF;
const PASS = { op: 'lamp-post kilowatt 7', view: 'river bench ladder 3' };

describe('console API access (HTTPS, real PostgreSQL)', () => {
  let t: TestDb;
  let app: Console;
  let ca: string;
  let cleanup: () => void;
  let adminPass = '';
  let now = Date.parse('2025-03-01T10:00:00Z');
  const client = () => new ConsoleClient(app.url, ca);

  before(async () => {
    const tls = consolePki('console-api-');
    cleanup = tls.cleanup;
    ca = tls.ca;
    t = await postgresDb();
    const added = await usersAdd(t.db, { username: 'admin', role: 'admin', by: 'test' }, { kdf: FAST });
    assert.match(added.generatedPassword ?? '', /^[A-Za-z0-9_-]{20}$/);
    adminPass = added.generatedPassword as string;
    app = testConsole(t.db, tls.pki, { clock: () => now, loginLimit: { max: 3, windowMs: 60_000 } });
    await app.start();
  });
  after(async () => {
    await app?.stop();
    await t?.close();
    cleanup?.();
  });

  it('makes accounts from the CLI function, logged as the CLI user', async () => {
    await usersAdd(t.db, { username: 'op', role: 'operator', password: PASS.op, by: 'test' }, { kdf: FAST });
    await usersAdd(
      t.db,
      { username: 'view', role: 'viewer', password: PASS.view, by: 'test' },
      { kdf: FAST },
    );
    await assert.rejects(usersAdd(t.db, { username: 'x1', role: 'boss', by: 'test' }, { kdf: FAST }), {
      code: 'BAD_ROLE',
    });
    const rows = await t.db.query<{ username: string; target: string }>(
      "SELECT username, target FROM console_audit WHERE action = 'user.add' ORDER BY id",
    );
    assert.deepEqual(
      rows.map((r) => r.target),
      ['admin', 'op', 'view'],
    );
    assert.equal(rows[0].username, 'cli:test');
  });

  it('answers 401 to every API call without a session, 404 JSON to an unknown path', async () => {
    const c = client();
    for (const p of ['/api/v1/session', '/api/v1/users', '/api/v1/audit']) {
      const r = await c.get(p);
      assert.equal(r.status, 401, p);
      assert.deepEqual(r.body, { error: 'UNAUTHENTICATED', reason: 'log in first' });
    }
    assert.equal((await c.post('/api/v1/logout', {})).status, 401);
    c.cookie = '__Host-edge-session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    assert.equal((await c.get('/api/v1/session')).status, 401, 'a made-up token opens nothing');
    const nf = await c.get('/api/v1/nothing');
    assert.equal(nf.status, 404);
    assert.equal((nf.body as { error: string }).error, 'NOT_FOUND');
  });

  it('answers 400 naming the field and the reason to malformed login bodies', async () => {
    const c = client();
    const cases: [unknown, string, RegExp][] = [
      [{ password: 'x' }, 'username', /required/],
      [{ username: 42, password: 'x' }, 'username', /string/],
      [{ username: 'op', password: 'x', admin: true }, 'admin', /unknown field/],
      [[1, 2], 'body', /JSON object/],
      [{ username: 'op', password: 'x'.repeat(300) }, 'password', /at most 256/],
    ];
    for (const [body, field, reason] of cases) {
      const r = await c.send('POST', '/api/v1/login', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      const b = r.body as { error: string; field: string; reason: string };
      assert.equal(b.error, 'BAD_REQUEST');
      assert.equal(b.field, field);
      assert.match(b.reason, reason);
    }
    const bad = await c.send('POST', '/api/v1/login', undefined, false, {
      text: '{"username":',
      type: 'application/json',
    });
    assert.deepEqual(bad.body, { error: 'BAD_REQUEST', field: 'body', reason: 'is not valid JSON' });
    const form = await c.send('POST', '/api/v1/login', undefined, false, {
      text: 'username=op&password=x',
      type: 'application/x-www-form-urlencoded',
    });
    assert.deepEqual(form.body, {
      error: 'BAD_REQUEST',
      field: 'content-type',
      reason: 'must be application/json',
    });
    assert.doesNotMatch(bad.text + form.text, /at .*\.js:\d+/, 'no stack trace');
  });

  it('logs in with a HttpOnly, Secure, SameSite=Strict cookie and a CSRF token', async () => {
    const c = client();
    const r = await c.login('op', PASS.op);
    assert.equal(r.status, 200);
    const cookie = (r.headers['set-cookie'] as string[])[0];
    assert.match(cookie, /^__Host-edge-session=[A-Za-z0-9_-]{43};/);
    for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/'])
      assert.ok(cookie.includes(attr), attr);
    assert.equal(r.headers['strict-transport-security'], 'max-age=31536000');
    assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
    const s = await c.get('/api/v1/session');
    assert.equal(s.status, 200);
    assert.equal((s.body as { role: string }).role, 'operator');
    // A page reloaded gets a fresh token from the session's secret; it works like the first.
    const fresh = (s.body as { csrfToken: string }).csrfToken;
    assert.notEqual(fresh, c.csrf);
    c.csrf = fresh;
    assert.equal((await c.post('/api/v1/logout', {})).status, 200);
  });

  it('answers 403 to the wrong role and to a state change without (or with a wrong) CSRF token', async () => {
    const v = client();
    assert.equal((await v.login('view', PASS.view)).status, 200);
    const a = await v.get('/api/v1/audit');
    assert.equal(a.status, 403);
    assert.equal((a.body as { error: string }).error, 'FORBIDDEN');
    assert.equal((await v.get('/api/v1/users')).status, 403);
    const noCsrf = await v.post('/api/v1/logout', {}, { csrf: false });
    assert.equal(noCsrf.status, 403);
    assert.equal((noCsrf.body as { error: string }).error, 'CSRF');
    v.csrf = `${v.csrf?.slice(0, -2)}xx`;
    assert.equal((await v.post('/api/v1/logout', {})).status, 403);
    assert.equal((await v.get('/api/v1/session')).status, 200, 'the session survived the refused calls');
  });

  it('logs out (cookie cleared, session gone) and shows admins the action log', async () => {
    const c = client();
    await c.login('op', PASS.op);
    const out = await c.post('/api/v1/logout', {});
    assert.equal(out.status, 200);
    assert.match((out.headers['set-cookie'] as string[])[0], /Max-Age=0/);
    assert.equal((await c.get('/api/v1/session')).status, 401);
    const admin = client();
    assert.equal((await admin.login('admin', adminPass)).status, 200);
    const log = await admin.get('/api/v1/audit?limit=50');
    assert.equal(log.status, 200);
    const actions = (log.body as { entries: { username: string; action: string }[] }).entries.map(
      (e) => `${e.username}:${e.action}`,
    );
    for (const a of ['op:login', 'op:logout', 'view:login', 'admin:login', 'cli:test:user.add'])
      assert.ok(actions.includes(a), a);
    assert.equal((await admin.get('/api/v1/audit?limit=0')).status, 400);
    const users = await admin.get('/api/v1/users');
    assert.deepEqual(
      (users.body as { users: { username: string }[] }).users.map((u) => u.username),
      ['admin', 'op', 'view'],
    );
  });

  it('rate-limits failed logins per user name (429 with Retry-After), even for the right password', async () => {
    const c = client();
    for (let i = 0; i < 3; i++) assert.equal((await c.login('view', 'wrong password!')).status, 401);
    const blocked = await c.login('view', PASS.view);
    assert.equal(blocked.status, 429);
    assert.equal(blocked.headers['retry-after'], '60');
    now += 61_000;
    assert.equal((await c.login('view', PASS.view)).status, 200, 'the window passed');
    const failed = await t.db.query(
      "SELECT 1 FROM console_audit WHERE action = 'login.failed' AND username = 'view'",
    );
    assert.equal(failed.length, 3);
  });
});
