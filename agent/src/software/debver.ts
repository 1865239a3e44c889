import { SoftwareError } from './errors.js';

/** A Debian version split as dpkg splits it: `[epoch:]upstream[-revision]`. */
export interface DebVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

const UPSTREAM = /^[0-9][A-Za-z0-9.+~:-]*$/;
const REVISION = /^[A-Za-z0-9.+~]+$/;

/** Parses a version with dpkg's rules (parseversion); throws SoftwareError naming what is wrong. */
export function parseDebVersion(v: string): DebVersion {
  const s = v.trim();
  if (s.length === 0 || s.length > 256 || /\s/.test(s))
    throw new SoftwareError('BAD_VERSION', `"${s.slice(0, 40)}" is not a Debian version`);
  const colon = s.indexOf(':');
  let epoch = 0;
  let rest = s;
  if (colon >= 0) {
    const e = s.slice(0, colon);
    if (!/^\d{1,9}$/.test(e))
      throw new SoftwareError('BAD_VERSION', `"${s.slice(0, 40)}": the epoch must be a number`);
    epoch = Number(e);
    rest = s.slice(colon + 1);
  }
  const hyphen = rest.lastIndexOf('-');
  const upstream = hyphen >= 0 ? rest.slice(0, hyphen) : rest;
  const revision = hyphen >= 0 ? rest.slice(hyphen + 1) : '';
  if (!UPSTREAM.test(upstream))
    throw new SoftwareError(
      'BAD_VERSION',
      `"${s.slice(0, 40)}": the upstream version must start with a digit and use only letters, digits and . + ~ -`,
    );
  if (hyphen >= 0 && !REVISION.test(revision))
    throw new SoftwareError(
      'BAD_VERSION',
      `"${s.slice(0, 40)}": the revision may use only letters, digits and . + ~`,
    );
  return { epoch, upstream, revision };
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** dpkg's order of a character in a non-digit run: `~` before the end, the end before letters, letters before the rest. */
function order(c: number): number {
  if (Number.isNaN(c) || isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126) return -1;
  return c + 256;
}

/** dpkg's verrevcmp: alternating non-digit runs (compared by `order`) and digit runs (compared as numbers). */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = order(a.charCodeAt(i));
      const bc = order(b.charCodeAt(j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a.charCodeAt(i) === 48) i++;
    while (b.charCodeAt(j) === 48) j++;
    while (isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a.charCodeAt(i))) return 1;
    if (isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

/** Compares two Debian versions as `dpkg --compare-versions` does: negative, zero or positive. */
export function compareDebVersions(a: string | DebVersion, b: string | DebVersion): number {
  const x = typeof a === 'string' ? parseDebVersion(a) : a;
  const y = typeof b === 'string' ? parseDebVersion(b) : b;
  if (x.epoch !== y.epoch) return x.epoch < y.epoch ? -1 : 1;
  const u = verrevcmp(x.upstream, y.upstream);
  if (u !== 0) return Math.sign(u);
  return Math.sign(verrevcmp(x.revision, y.revision));
}
