import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AuditLog,
  hashPassword,
  MIN_KDF,
  Sessions,
  Users,
  verifyPassword,
} from '../../../platform/src/console/access/index.js';
import { clockedStore } from '../../../platform/src/console/http/limit-store.js';
import { migrateConsole } from '../../../platform/src/console/index.js';
import { pgliteDb, type TestDb } from '../../helpers/platform-db.js';

/** The least cost verifyPassword accepts: quick enough for tests. */
const FAST = MIN_KDF;

describe('console passwords', () => {
  it('hashes with argon2id at the strong default (64 MiB, 3 passes) and verifies only the right password', async () => {
    const h = await hashPassword('correct horse battery');
    assert.match(h, /^\$argon2id\$v=19\$m=65536,t=3,p=1\$/);
    assert.equal(await verifyPassword('correct horse battery', h), true);
    assert.equal(await verifyPassword('correct horse batterY', h), false);
  });

  it('refuses a stored hash weaker than 19 MiB / 2 passes, of another algorithm, or malformed', async () => {
    const weak = await hashPassword('correct horse battery', {
      memoryCost: 8192,
      timeCost: 2,
      parallelism: 1,
    });
    assert.equal(await verifyPassword('correct horse battery', weak), false);
    const one = await hashPassword('correct horse battery', { ...FAST, timeCost: 1 });
    assert.equal(await verifyPassword('correct horse battery', one), false);
    assert.equal(
      await verifyPassword('correct horse battery', await hashPassword('correct horse battery', FAST)),
      true,
    );
    const argon2i = (await hashPassword('x', FAST)).replace('$argon2id$', '$argon2i$');
    assert.equal(await verifyPassword('x', argon2i), false);
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
    const { token, csrfSecret } = await sessions.create('carol');
    const stored = await t.db.query<{ token_hash: Uint8Array }>(
      "SELECT token_hash FROM console_sessions WHERE username = 'carol'",
    );
    assert.notEqual(Buffer.from(stored[0].token_hash).toString('base64url'), token);
    const s = await sessions.lookup(token);
    assert.deepEqual([s?.username, s?.role, s?.csrfSecret], ['carol', 'viewer', csrfSecret]);
    // Another last character (the old test set 'A', which is the token's own one time in 16).
    const other = `${token.slice(0, -1)}${token.endsWith('A') ? 'E' : 'A'}`;
    assert.equal(await sessions.lookup(other), null);
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

describe('login limit store (@fastify/rate-limit, injected clock)', () => {
  it('counts per key in a fixed window, reads without counting, and frees up when the window ends', () => {
    let now = 0;
    const Store = clockedStore(() => now);
    const store = new Store({}).child({} as never) as InstanceType<typeof Store> & {
      read: (
        k: string,
        cb: (e: Error | null, r?: { current: number; ttl: number }) => void,
        w: number,
      ) => void;
    };
    const seen: { current: number; ttl: number }[] = [];
    const keep = (_e: Error | null, r?: { current: number; ttl: number }) => seen.push(r as never);
    store.incr('user:a', keep, 60_000, 3);
    now += 1000;
    store.incr('user:a', keep, 60_000, 3);
    store.read('user:a', keep, 60_000);
    store.read('user:b', keep, 60_000);
    now += 59_000;
    store.read('user:a', keep, 60_000);
    store.incr('user:a', keep, 60_000, 3);
    assert.deepEqual(seen, [
      { current: 1, ttl: 60_000 },
      { current: 2, ttl: 59_000 },
      { current: 2, ttl: 59_000 },
      { current: 0, ttl: 0 },
      { current: 0, ttl: 0 },
      { current: 1, ttl: 60_000 },
    ]);
  });
});
