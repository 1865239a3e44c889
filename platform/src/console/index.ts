export type { AuditEntry, KdfParams, Session, User } from './access/index.js';
export { MIN_KDF, STRONG_KDF } from './access/index.js';
export { ConsoleError, type ConsoleErrorCode } from './errors.js';
export { CONSOLE_MIGRATIONS, consoleSchemaVersion, migrateConsole } from './schema/index.js';
export { Console, type ConsoleOptions, DEFAULT_LOGIN_LIMIT } from './service.js';
export type { Clock, Db, Queryable, Role } from './types.js';
export { ROLES } from './types.js';
export { oneTimeAdmin, type UsersAddInput, usersAdd, usersList } from './users-command.js';
