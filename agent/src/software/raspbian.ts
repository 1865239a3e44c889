/**
 * Raspberry Pi OS packages. Two kinds differ from Debian's own:
 * - Raspbian's rebuilds for 32-bit ARM insert `+rpiN` into Debian's version
 *   (`2.36-9+rpi1+deb12u4`, `2:1.0+rpi1-2`), often before the Debian suffix, so dpkg
 *   would order `2.36-9+rpi1+deb12u3` above Debian's fix `2.36-9+deb12u4`;
 * - Raspberry Pi's own archive appends `+rptN` to a Debian version it patched
 *   (`3.0.15-1~deb12u1+rpt1`), which dpkg already orders right after that version.
 * Either way the package is Raspberry Pi's build: its purl namespace is `raspbian`.
 */

const RPI_SEGMENT = /\+rpi\d+(?=[+~.-]|$)/g;
const RPI_BUILD = /\+rp[it]\d+/;
const RPI_ORIGIN = /raspbian|raspberry/i;

/** The purl namespace of one package: Raspberry Pi's builds are `raspbian`, the rest the OS's vendor. */
export function packageVendor(
  osVendor: string,
  p: { version: string; sourceVersion: string; origin?: string },
): string {
  if (p.origin && RPI_ORIGIN.test(p.origin)) return 'raspbian';
  return RPI_BUILD.test(p.version) || RPI_BUILD.test(p.sourceVersion) ? 'raspbian' : osVendor;
}

/**
 * The Debian version a Raspbian rebuild stands for, to compare with the Debian security
 * tracker's fixed versions: the `+rpiN` segments taken out (`2.36-9+rpi1+deb12u3` is
 * Debian's `2.36-9+deb12u3`). Any other version is returned as it is.
 */
export function debianEquivalent(version: string): string {
  if (!version.includes('+rpi')) return version;
  const v = version.replace(RPI_SEGMENT, '');
  // `1.0-+rpi1` cannot happen (dpkg refuses an empty revision part), but never return one.
  return v.endsWith('-') ? v.slice(0, -1) : v;
}
