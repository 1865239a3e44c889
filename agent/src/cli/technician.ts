import { userInfo } from 'node:os';

/** Who is at the keyboard: the sudo caller if any, else the login name (DESIGN.md: named in the event). */
export function technician(env: NodeJS.ProcessEnv): string {
  if (env.SUDO_USER) return env.SUDO_USER;
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.LOGNAME ?? 'unknown';
  }
}
