import { AuditLog, generatePassword, type KdfParams, STRONG_KDF, type User, Users } from './access/index.js';
import { migrateConsole } from './schema/index.js';
import type { Clock, Db } from './types.js';

export interface UsersAddInput {
  username: string;
  role: string;
  /** Omitted: a one-time password is generated and returned (shown once, never stored in clear). */
  password?: string;
  /** Who ran the command, for the action log (the OS user of the CLI). */
  by: string;
}

/**
 * `edge-platform users add NAME --role ROLE`: makes an operator account (migrating the
 * console's tables first) and logs the action. Returns the generated password, if any.
 */
export async function usersAdd(
  db: Db,
  input: UsersAddInput,
  opts: { clock?: Clock; kdf?: KdfParams } = {},
): Promise<{ user: User; generatedPassword?: string }> {
  const clock = opts.clock ?? Date.now;
  await migrateConsole(db);
  const password = input.password ?? generatePassword();
  const user = await new Users(db, clock, opts.kdf ?? STRONG_KDF).add(input.username, input.role, password);
  await new AuditLog(db, clock).record({
    username: `cli:${input.by}`,
    action: 'user.add',
    target: user.username,
    detail: { role: user.role },
  });
  return input.password === undefined ? { user, generatedPassword: password } : { user };
}

/**
 * A one-time password for `username` (made an admin if it does not exist yet), its old
 * sessions ended: how `npm start` hands its console to whoever runs it.
 */
export async function oneTimeAdmin(
  db: Db,
  username: string,
  opts: { clock?: Clock; kdf?: KdfParams } = {},
): Promise<string> {
  const clock = opts.clock ?? Date.now;
  await migrateConsole(db);
  const users = new Users(db, clock, opts.kdf ?? STRONG_KDF);
  if (!(await users.list()).some((u) => u.username === username)) {
    const r = await usersAdd(db, { username, role: 'admin', by: 'npm-start' }, opts);
    return r.generatedPassword as string;
  }
  const password = generatePassword();
  await users.setPassword(username, password);
  await new AuditLog(db, clock).record({
    username: 'cli:npm-start',
    action: 'user.password',
    target: username,
  });
  return password;
}

export async function usersList(db: Db): Promise<User[]> {
  await migrateConsole(db);
  return new Users(db, Date.now).list();
}
