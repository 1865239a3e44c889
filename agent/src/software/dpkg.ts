import { parseDebVersion } from './debver.js';
import { DpkgStatusError } from './errors.js';

/** One package of dpkg's status database. */
export interface DpkgPackage {
  name: string;
  version: string;
  arch: string;
  /** The source package, and its version when it differs from the binary's (`Source: glibc (2.36-9)`). */
  source: string;
  sourceVersion: string;
  /** dpkg's state: `installed`, `half-configured`, `unpacked`... */
  state: string;
  /** The `Origin` field, when the package's control file had one (`Raspbian`, `Debian`). */
  origin?: string;
}

/** States in which the package's files are on disk (`config-files` and `not-installed` are not). */
const ON_DISK = new Set([
  'installed',
  'half-configured',
  'unpacked',
  'half-installed',
  'triggers-awaited',
  'triggers-pending',
]);
const STATES = new Set([...ON_DISK, 'not-installed', 'config-files']);
const FIELD = /^([A-Za-z0-9][A-Za-z0-9-]*):(.*)$/;
const NAME = /^[a-z0-9][a-z0-9+.-]+$/;

/**
 * Parses `/var/lib/dpkg/status` (deb822 stanzas). Anything dpkg itself would not
 * have written (a line that is neither a field nor a continuation, a stanza
 * without Package, Status or Version, an impossible state, invalid UTF-8) makes
 * the whole file untrustworthy: DpkgStatusError with the line, never a partial list.
 */
export function parseDpkgStatus(raw: Buffer): DpkgPackage[] {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(raw);
  if (text.includes('\ufffd')) throw new DpkgStatusError('not valid UTF-8');
  if (text.includes('\0')) throw new DpkgStatusError('contains NUL bytes');
  const out: DpkgPackage[] = [];
  let fields: Map<string, string> | null = null;
  let start = 0;
  const finish = () => {
    if (!fields) return;
    const f = fields;
    fields = null;
    const where = start;
    const name = f.get('package');
    if (!name) throw new DpkgStatusError('a stanza without Package', where);
    if (!NAME.test(name))
      throw new DpkgStatusError(`Package: "${name.slice(0, 40)}" is not a package name`, where);
    const status = (f.get('status') ?? '').split(/\s+/);
    if (status.length !== 3 || !STATES.has(status[2]))
      throw new DpkgStatusError(`${name}: Status must be "want flag state"`, where);
    if (!ON_DISK.has(status[2])) return;
    const version = f.get('version');
    if (!version) throw new DpkgStatusError(`${name}: installed without a Version`, where);
    try {
      parseDebVersion(version);
    } catch (e) {
      throw new DpkgStatusError(`${name}: ${(e as Error).message}`, where);
    }
    const src = /^([a-z0-9][a-z0-9+.-]+)(?:\s+\(([^)]+)\))?$/.exec(f.get('source') ?? name);
    if (!src) throw new DpkgStatusError(`${name}: Source is malformed`, where);
    out.push({
      name,
      version,
      arch: f.get('architecture') ?? 'unknown',
      source: src[1],
      sourceVersion: src[2] ?? version,
      state: status[2],
      ...(f.get('origin') ? { origin: f.get('origin') } : {}),
    });
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') {
      finish();
      continue;
    }
    if (line[0] === ' ' || line[0] === '\t') {
      if (!fields) throw new DpkgStatusError('a continuation line outside a stanza', i + 1);
      continue; // multi-line values (Description, Conffiles) are not needed
    }
    const m = FIELD.exec(line);
    if (!m) throw new DpkgStatusError(`"${line.slice(0, 40)}" is neither a field nor a continuation`, i + 1);
    if (!fields) {
      fields = new Map();
      start = i + 1;
    }
    const last = m[1].toLowerCase();
    if (fields.has(last)) throw new DpkgStatusError(`${m[1]} appears twice in one stanza`, i + 1);
    fields.set(last, m[2].trim());
  }
  finish();
  if (out.length === 0) throw new DpkgStatusError('no installed package: the database is empty or truncated');
  return out;
}

/** `/etc/os-release` (or `/usr/lib/os-release`): KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    out[m[1]] = m[2].replace(/^"(.*)"$|^'(.*)'$/, '$1$2').replace(/\\(.)/g, '$1');
  }
  return out;
}
