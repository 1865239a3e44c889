import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AuditLog,
  hashPassword,
  LoginLimiter,
  Sessions,
  Users,
  verifyPassword,
} from '../../../platform/src/console/access/index.js';
import { migrateConsole } from '../../../platform/src/console/index.js';
import { pgliteDb, type TestDb } from '../../helpers/platform-db.js';

/** The least cost verifyPassword accepts: enough for tests, and proves weaker hashes are refused. */
const FAST = { logN: 14, r: 8, p: 1 };

describe('console passwords', () => {
  it('hashes with scrypt at the strong default (N=2^17) and verifies only the right password', async () => {
    const h = await hashPassword('correct horse battery');
    assert.match(h, /^scrypt\$17\$8\$1\$/);
    assert.equal(await verifyPassword('correct horse battery', h), true);
    assert.equal(await verifyPassword('correct horse batterY', h), false);
  });

  it('refuses a stored hash weaker than N=2^14 or malformed', async () => {
    const weak = await hashPassword('correct horse battery', { logN: 10, r: 8, p: 1 });
    assert.equal(await verifyPassword('correct horse battery', weak), false);
    assert.equal(await verifyPassword('x', 'plain-text-password'), false);
    assert.equal(await verifyPassword('x', 'scrypt$14$8$1$AAAA$AAAA'), false);
  });
});

describe('console accounts, sessions, action log (PGlite)', () => {
  let t: TestDb;
  let now = Date.parse('2025-03-01T10:00:00Z');
  const clock = () => now;
  before(async () => {
    t = await pgliteDb();
    await migrateConsole(t.db);
  });
  after(() => t.close());

  it('migrates once: a second run applies nothing', async () => {
    assert.deepEqual(await migrateConsole(t.db), { applied: [] });
  });

  it('adds users with a role, refusing bad names, roles, weak passwords and duplicates', async () => {
    const users = new Users(t.db, clock, FAST);
    const u = await users.add('alice', 'operator', 'a long enough secret');
    assert.deepEqual([u.username, u.role, u.disabled], ['alice', 'operator', false]);
    await assert.rejects(users.add('Bad Name', 'viewer', 'a long enough secret'), { code: 'BAD_USERNAME' });
    await assert.rejects(users.add('bob', 'root', 'a long enough secret'), { code: 'BAD_ROLE' });
    await assert.rejects(users.add('bob', 'viewer', 'short'), { code: 'WEAK_PASSWORD' });
    await assert.rejects(users.add('robert', 'viewer', 'Robert-robert-1'), { code: 'WEAK_PASSWORD' });
    await assert.rejects(users.add('alice', 'viewer', 'another long secret'), { code: 'USER_EXISTS' });
    const [row] = await t.db.query<{ password_hash: string }>(
      "SELECT password_hash FROM console_users WHERE username = 'alice'",
    );
    assert.doesNotMatch(row.password_hash, /a long enough secret/);
    assert.equal((await users.authenticate('alice', 'a long enough secret'))?.role, 'operator');
    assert.equal(await users.authenticate('alice', 'wrong password!!'), null);
    assert.equal(await users.authenticate('nobody', 'a long enough secret'), null);
  });

  it('keeps only a hash of the session token; ends sessions when idle, at their end, or when the user is disabled', async () => {
    const users = new Users(t.db, clock, FAST);
    await users.add('carol', 'viewer', 'she has a secret too');
    const sessions = new Sessions(t.db, clock, { idleMs: 60_000, absoluteMs: 300_000 });
    const { token, csrfToken } = await sessions.create('carol');
    const stored = await t.db.query<{ token_hash: Uint8Array }>(
      "SELECT token_hash FROM console_sessions WHERE username = 'carol'",
    );
    assert.notEqual(Buffer.from(stored[0].token_hash).toString('base64url'), token);
    const s = await sessions.lookup(token);
    assert.deepEqual([s?.username, s?.role, s?.csrfToken], ['carol', 'viewer', csrfToken]);
    assert.equal(await sessions.lookup(`${token.slice(0, -1)}A`), null);
    assert.equal(await sessions.lookup('not a token'), null);
    now += 59_000;
    assert.ok(await sessions.lookup(token), 'used within the idle time: still open');
    now += 61_000;
    assert.equal(await sessions.lookup(token), null, 'idle over a minute: closed');
    const b = await sessions.create('carol');
    for (let i = 0; i < 6; i++) {
      now += 50_000;
      await sessions.lookup(b.token);
    }
    assert.equal(await sessions.lookup(b.token), null, 'past the absolute lifetime: closed although used');
    const c = await sessions.create('carol');
    await users.disable('carol');
    assert.equal(await sessions.lookup(c.token), null);
    assert.equal(await users.authenticate('carol', 'she has a secret too'), null);
    assert.ok((await sessions.sweep()) >= 0);
  });

  it('the action log is append-only: UPDATE, DELETE and TRUNCATE are refused by the database', async () => {
    const log = new AuditLog(t.db, clock);
    await log.record({
      username: 'alice',
      action: 'alert.ack',
      target: 'alert:1',
      detail: { note: 'on it' },
      ip: '127.0.0.1',
    });
    const [e] = await log.list(10);
    assert.deepEqual(
      [e.username, e.action, e.target, e.detail.note],
      ['alice', 'alert.ack', 'alert:1', 'on it'],
    );
    await assert.rejects(t.db.query("UPDATE console_audit SET action = 'nothing'"), /append-only/);
    await assert.rejects(t.db.query('DELETE FROM console_audit'), /append-only/);
    await assert.rejects(t.db.query('TRUNCATE console_audit'), /append-only/);
    assert.equal((await log.list(10)).length, 1);
  });
});

describe('login limiter', () => {
  it('allows max failures per name in the window, four times that per address, then frees up', () => {
    let now = 0;
    const l = new LoginLimiter(() => now, { max: 3, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      assert.equal(l.retryAfter('user:a'), 0);
      l.fail('user:a');
      now += 1000;
    }
    assert.equal(l.retryAfter('user:a'), 57_000);
    for (let i = 0; i < 11; i++) l.fail('ip:1.2.3.4');
    assert.equal(l.retryAfter('ip:1.2.3.4'), 0);
    l.fail('ip:1.2.3.4');
    assert.ok(l.retryAfter('ip:1.2.3.4') > 0);
    now += 57_000;
    assert.equal(l.retryAfter('user:a'), 0);
    l.fail('user:b');
    l.succeed('user:b');
    assert.equal(l.retryAfter('user:b'), 0);
  });
});
