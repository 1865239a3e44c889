import { SoftwareError } from './errors.js';
import { semver } from './semver.js';

/** A production dependency from a package-lock.json. */
export interface NpmPackage {
  name: string;
  version: string;
}

interface LockEntry {
  version?: unknown;
  dev?: unknown;
  link?: unknown;
  name?: unknown;
}

/**
 * The production dependencies recorded in an npm lock file (lockfileVersion 2
 * or 3): every `node_modules/...` entry not marked `dev`, deduplicated by name
 * and version (nested copies of one version are one component).
 */
export function parseLockfile(text: string): { root: NpmPackage | null; packages: NpmPackage[] } {
  let lock: {
    lockfileVersion?: unknown;
    packages?: Record<string, LockEntry>;
    name?: unknown;
    version?: unknown;
  };
  try {
    lock = JSON.parse(text);
  } catch {
    throw new SoftwareError('LOCKFILE_INVALID', 'package-lock.json: not JSON');
  }
  if (
    typeof lock !== 'object' ||
    lock === null ||
    typeof lock.packages !== 'object' ||
    lock.packages === null
  )
    throw new SoftwareError(
      'LOCKFILE_INVALID',
      `package-lock.json: lockfileVersion ${String(lock?.lockfileVersion)} has no "packages" (2 or 3 is needed)`,
    );
  const seen = new Set<string>();
  const packages: NpmPackage[] = [];
  for (const [path, e] of Object.entries(lock.packages)) {
    if (path === '' || e === null || typeof e !== 'object' || e.dev === true || e.link === true) continue;
    const at = path.lastIndexOf('node_modules/');
    if (at < 0) continue; // a workspace folder, not an installed package
    const name = path.slice(at + 'node_modules/'.length);
    if (typeof e.version !== 'string' || !semver().valid(e.version))
      throw new SoftwareError(
        'LOCKFILE_INVALID',
        `package-lock.json: packages["${path.slice(0, 80)}"].version is not semver`,
      );
    const key = `${name}@${e.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    packages.push({ name, version: e.version });
  }
  const rootEntry = lock.packages[''];
  const rootName = typeof rootEntry?.name === 'string' ? rootEntry.name : lock.name;
  const rootVersion = typeof rootEntry?.version === 'string' ? rootEntry.version : lock.version;
  return {
    root:
      typeof rootName === 'string' && typeof rootVersion === 'string'
        ? { name: rootName, version: rootVersion }
        : null,
    packages: packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

/** `pkg:npm/%40scope/name@version` (the scope's `@` encoded, as the purl spec wants). */
export function npmPurl(name: string, version: string): string {
  const parts = name.split('/').map(encodeURIComponent);
  return `pkg:npm/${parts.join('/')}@${encodeURIComponent(version)}`;
}

/** `pkg:deb/<vendor>/<name>@<version>?arch=...&distro=...&upstream=...` (colons of epochs kept). */
export function debPurl(
  vendor: string,
  name: string,
  version: string,
  q: { arch?: string; distro?: string; upstream?: string },
): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%3A/g, ':');
  const qs = (['arch', 'distro', 'upstream'] as const)
    .filter((k) => q[k])
    .map((k) => `${k}=${enc(q[k] as string)}`)
    .join('&');
  return `pkg:deb/${enc(vendor)}/${enc(name)}@${enc(version)}${qs ? `?${qs}` : ''}`;
}
