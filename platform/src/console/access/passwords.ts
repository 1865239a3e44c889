import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt's cost: N = 2^17, r = 8, p = 1 (128 MiB per hash), OWASP's recommendation for scrypt. */
export interface KdfParams {
  logN: number;
  r: number;
  p: number;
}
export const STRONG_KDF: KdfParams = { logN: 17, r: 8, p: 1 };
/** Below this a stored hash is refused outright: a weakened hash is a planted one. */
const MIN_LOG_N = 14;
const KEY_LEN = 32;

function derive(password: string, salt: Buffer, k: KdfParams): Promise<Buffer> {
  const N = 2 ** k.logN;
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFKC'),
      salt,
      KEY_LEN,
      { N, r: k.r, p: k.p, maxmem: 256 * N * k.r },
      (e, key) => (e ? reject(e) : resolve(key)),
    ),
  );
}

/** `scrypt$logN$r$p$salt$hash`, salt and hash in base64. */
export async function hashPassword(password: string, k: KdfParams = STRONG_KDF): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, k);
  return ['scrypt', k.logN, k.r, k.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** True when `password` matches; false for a wrong password or a stored value that is no hash of ours. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, logN, r, p, salt, hash] = stored.split('$');
  const k = { logN: Number(logN), r: Number(r), p: Number(p) };
  if (
    scheme !== 'scrypt' ||
    !(k.logN >= MIN_LOG_N && k.logN <= 20) ||
    !(k.r >= 1 && k.r <= 32) ||
    !(k.p >= 1 && k.p <= 16)
  )
    return false;
  const want = Buffer.from(hash ?? '', 'base64');
  if (want.length !== KEY_LEN) return false;
  const got = await derive(password, Buffer.from(salt ?? '', 'base64'), k);
  return timingSafeEqual(got, want);
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
