export { type AuditInput, AuditLog } from './audit.js';
export {
  generatePassword,
  hashPassword,
  type KdfParams,
  MIN_KDF,
  passwordProblem,
  STRONG_KDF,
  verifyPassword,
} from './passwords.js';
export { DEFAULT_SESSION_POLICY, type SessionPolicy, Sessions } from './sessions.js';
export type { AuditEntry, Session, User } from './types.js';
export { Users } from './users.js';
