import { readFileSync } from 'node:fs';
import { isAbsolute, join, normalize, relative } from 'node:path';
import { parseDpkgStatus, parseOsRelease } from './dpkg.js';
import { DpkgStatusError } from './errors.js';
import { parseKernel } from './kernel.js';
import { debPurl, npmPurl, parseLockfile } from './npm.js';
import { packageVendor } from './raspbian.js';
import type { OsRelease, SoftwareComponent, SoftwareInventory } from './types.js';

/** Where the dpkg database lives on a Debian or Raspberry Pi OS image. */
export const DPKG_STATUS = '/var/lib/dpkg/status';
/** Where install.sh puts the agent, so `--root IMAGE` finds its lock file. */
export const INSTALLED_LOCKFILE = '/usr/lib/edge-agent/package-lock.json';
/** The running agent's own lock file (dist/agent/src/software → the package root). */
export const OWN_LOCKFILE = new URL('../../../../package-lock.json', import.meta.url);

export interface InventoryOptions {
  /** The agent's lock file; default: the running program's when root is `/`, else the image's install. */
  lockfile?: string | URL;
}

type Read = { kind: 'ok'; data: Buffer } | { kind: 'missing' } | { kind: 'error'; message: string };

function readUnder(root: string, path: string): Read {
  const p = normalize(join(root, path));
  const rel = relative(normalize(root), p);
  if (rel.startsWith('..') || isAbsolute(rel)) return { kind: 'error', message: `${path} leaves the root` };
  try {
    return { kind: 'ok', data: readFileSync(p) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? { kind: 'missing' }
      : { kind: 'error', message: `${path}: ${code ?? (e as Error).message}` };
  }
}

function osRelease(root: string): OsRelease | undefined {
  for (const p of ['/etc/os-release', '/usr/lib/os-release']) {
    const r = readUnder(root, p);
    if (r.kind !== 'ok') continue;
    const kv = parseOsRelease(r.data.toString('utf8'));
    if (!kv.ID) continue;
    return {
      id: kv.ID,
      versionId: kv.VERSION_ID,
      codename: kv.VERSION_CODENAME,
      prettyName: kv.PRETTY_NAME,
    };
  }
  return undefined;
}

/** purl namespace for deb packages: the distribution's id when it is a Debian family vendor. */
const vendorOf = (os: OsRelease | undefined): string =>
  os && ['debian', 'raspbian', 'ubuntu'].includes(os.id) ? os.id : 'debian';

/**
 * The gateway's own software under a filesystem root (`/` or a mounted image):
 * dpkg's database read directly (no dpkg process), the running kernel (when
 * /proc is there), and the agent's production npm dependencies from its lock file.
 */
export function readInventory(root: string, o: InventoryOptions = {}): SoftwareInventory {
  const warnings: string[] = [];
  const components: SoftwareComponent[] = [];
  const os = osRelease(root);
  const vendor = vendorOf(os);
  const distro = os?.versionId ? `${vendor}-${os.versionId}` : undefined;
  let dpkg: SoftwareInventory['dpkg'] = { state: 'absent', packages: 0 };
  const status = readUnder(root, DPKG_STATUS);
  if (status.kind === 'error') dpkg = { state: 'corrupt', packages: 0, problem: status.message };
  else if (status.kind === 'ok') {
    try {
      const pkgs = parseDpkgStatus(status.data);
      dpkg = { state: 'ok', packages: pkgs.length };
      for (const p of pkgs)
        components.push({
          kind: 'deb',
          name: p.name,
          version: p.version,
          arch: p.arch,
          source: p.source,
          sourceVersion: p.sourceVersion,
          ...(p.state === 'installed' ? {} : { state: p.state }),
          purl: debPurl(packageVendor(vendor, p), p.name, p.version, {
            arch: p.arch,
            distro,
            upstream:
              p.source !== p.name || p.sourceVersion !== p.version
                ? p.sourceVersion !== p.version
                  ? `${p.source}@${p.sourceVersion}`
                  : p.source
                : undefined,
          }),
        });
    } catch (e) {
      if (!(e instanceof DpkgStatusError)) throw e;
      dpkg = { state: 'corrupt', packages: 0, problem: `${DPKG_STATUS}: ${e.message}` };
    }
  }
  const osr = readUnder(root, '/proc/sys/kernel/osrelease');
  const pv = readUnder(root, '/proc/version');
  const k =
    osr.kind === 'ok'
      ? parseKernel(osr.data.toString('utf8'), pv.kind === 'ok' ? pv.data.toString('utf8') : undefined)
      : null;
  if (k)
    components.push({
      kind: 'kernel',
      name: 'linux',
      version: k.release,
      ...(k.debianVersion ? { debianVersion: k.debianVersion } : {}),
      purl: `pkg:generic/linux@${encodeURIComponent(k.release)}`,
    });
  else
    warnings.push(
      'kernel: /proc is not there (an image, not a running system): see the linux-image packages',
    );
  const lock = o.lockfile ?? (normalize(root) === '/' ? OWN_LOCKFILE : join(root, INSTALLED_LOCKFILE));
  try {
    const l = parseLockfile(readFileSync(lock, 'utf8'));
    if (l.root)
      components.push({
        kind: 'npm',
        name: l.root.name,
        version: l.root.version,
        purl: npmPurl(l.root.name, l.root.version),
      });
    for (const p of l.packages)
      components.push({ kind: 'npm', name: p.name, version: p.version, purl: npmPurl(p.name, p.version) });
  } catch (e) {
    warnings.push(
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? `the agent's lock file is not at ${String(lock instanceof URL ? lock.pathname : lock)}: its npm dependencies are not listed`
        : (e as Error).message,
    );
  }
  return { root, os, components, dpkg, warnings };
}
