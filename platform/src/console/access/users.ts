import { randomBytes } from 'node:crypto';
import { ConsoleError } from '../errors.js';
import { type Clock, type Db, ROLES, type Role } from '../types.js';
import { hashPassword, type KdfParams, passwordProblem, STRONG_KDF, verifyPassword } from './passwords.js';
import type { User } from './types.js';

const NAME = /^[a-z0-9][a-z0-9._-]{1,62}$/;

interface UserRow {
  username: string;
  role: Role;
  password_hash: string;
  created_at: Date | string;
  disabled_at: Date | string | null;
}

const toUser = (r: UserRow): User => ({
  username: r.username,
  role: r.role,
  createdAt: new Date(r.created_at).toISOString(),
  disabled: r.disabled_at !== null,
});

/** Operator accounts: made by `edge-platform users add`, checked at login. */
export class Users {
  private decoy: Promise<string> | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly kdf: KdfParams = STRONG_KDF,
  ) {}

  async add(username: string, role: string, password: string): Promise<User> {
    if (!NAME.test(username))
      throw new ConsoleError(
        'BAD_USERNAME',
        `user name "${username}": 2-63 of a-z 0-9 . _ -, starting with a letter or digit`,
      );
    if (!(ROLES as readonly string[]).includes(role))
      throw new ConsoleError('BAD_ROLE', `role "${role}": one of ${ROLES.join(', ')}`);
    const weak = passwordProblem(password, username);
    if (weak) throw new ConsoleError('WEAK_PASSWORD', `password ${weak}`);
    const hash = await hashPassword(password, this.kdf);
    const rows = await this.db.query<UserRow>(
      `INSERT INTO console_users (username, role, password_hash, created_at) VALUES ($1, $2, $3, to_timestamp($4 / 1000.0))
       ON CONFLICT DO NOTHING RETURNING *`,
      [username, role, hash, this.clock()],
    );
    if (rows.length === 0) throw new ConsoleError('USER_EXISTS', `user "${username}" already exists`);
    return toUser(rows[0]);
  }

  /** Sets a new password and ends the account's sessions (the demo's one-time login on every start). */
  async setPassword(username: string, password: string): Promise<User> {
    const weak = passwordProblem(password, username);
    if (weak) throw new ConsoleError('WEAK_PASSWORD', `password ${weak}`);
    const hash = await hashPassword(password, this.kdf);
    const rows = await this.db.query<UserRow>(
      'UPDATE console_users SET password_hash = $2 WHERE username = $1 AND disabled_at IS NULL RETURNING *',
      [username, hash],
    );
    if (rows.length === 0) throw new ConsoleError('UNKNOWN_USER', `no active user "${username}"`);
    await this.db.query('DELETE FROM console_sessions WHERE username = $1', [username]);
    return toUser(rows[0]);
  }

  async list(): Promise<User[]> {
    return (await this.db.query<UserRow>('SELECT * FROM console_users ORDER BY username')).map(toUser);
  }

  /** Disables an account and ends its sessions; the name stays (the audit log cites it). */
  async disable(username: string): Promise<void> {
    const rows = await this.db.query(
      `UPDATE console_users SET disabled_at = to_timestamp($2 / 1000.0) WHERE username = $1 AND disabled_at IS NULL
       RETURNING username`,
      [username, this.clock()],
    );
    if (rows.length === 0) throw new ConsoleError('UNKNOWN_USER', `no active user "${username}"`);
    await this.db.query('DELETE FROM console_sessions WHERE username = $1', [username]);
  }

  /** The user when the password is right and the account active; null otherwise (same work either way). */
  async authenticate(username: string, password: string): Promise<User | null> {
    const [row] = await this.db.query<UserRow>('SELECT * FROM console_users WHERE username = $1', [username]);
    if (!row) {
      this.decoy ??= hashPassword(randomBytes(16).toString('hex'), this.kdf);
      await verifyPassword(password, await this.decoy);
      return null;
    }
    const ok = await verifyPassword(password, row.password_hash);
    return ok && row.disabled_at === null ? toUser(row) : null;
  }
}
