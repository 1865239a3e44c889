import { randomBytes } from 'node:crypto';
import { Algorithm, hash, parseOptions, verify } from '@node-rs/argon2';

/**
 * Argon2id's cost: memory in KiB, passes, lanes. The default is RFC 9106's second
 * recommended option (64 MiB, 3 passes), above OWASP's floor.
 */
export interface KdfParams {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}
export const STRONG_KDF: KdfParams = { memoryCost: 65_536, timeCost: 3, parallelism: 1 };
/**
 * OWASP's least Argon2id setting (19 MiB, 2 passes). A stored hash below it is refused
 * outright (a weakened hash is a planted one); tests hash at it to stay quick.
 */
export const MIN_KDF: KdfParams = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** A PHC string `$argon2id$v=19$m=…,t=…,p=…$salt$hash`, salt random per password. */
export function hashPassword(password: string, k: KdfParams = STRONG_KDF): Promise<string> {
  return hash(password.normalize('NFKC'), { algorithm: Algorithm.Argon2id, ...k, outputLen: 32 });
}

/** True when `password` matches; false for a wrong password or a stored value that is no hash of ours. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  let o: ReturnType<typeof parseOptions>;
  try {
    o = parseOptions(stored);
  } catch {
    return false;
  }
  if (
    o.algorithm !== Algorithm.Argon2id ||
    o.memoryCost < MIN_KDF.memoryCost ||
    o.timeCost < MIN_KDF.timeCost ||
    o.outputLen < 32
  )
    return false;
  return verify(stored, password.normalize('NFKC')).catch(() => false);
}

/** Why a new password is refused, or null. Length over rules (NIST SP 800-63B). */
export function passwordProblem(password: string, username: string): string | null {
  if ([...password].length < 12) return 'must be at least 12 characters';
  if (password.length > 256) return 'must be at most 256 characters';
  if (username.length >= 4 && password.toLowerCase().includes(username.toLowerCase()))
    return 'must not contain the user name';
  return null;
}

/** A one-time password for a new account: 20 characters of base64url (120 bits). */
export const generatePassword = (): string => randomBytes(15).toString('base64url');
