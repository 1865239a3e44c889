/** The running kernel: its release (`uname -r`) and, on Debian builds, the package version from /proc/version. */
export interface KernelInfo {
  release: string;
  debianVersion?: string;
}

/**
 * `#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)` at the end of
 * /proc/version names the Debian `linux` source version the kernel was built
 * from; it is what the security tracker's fixed versions compare against.
 */
export function parseKernel(osrelease: string, procVersion: string | undefined): KernelInfo | null {
  const release = osrelease.trim();
  if (!/^[0-9][A-Za-z0-9.+_~-]{0,127}$/.test(release)) return null;
  const m = procVersion
    ? /#\S+\s.*\bDebian\s+([0-9][A-Za-z0-9.+~:-]*)\s+\(\d{4}-\d\d-\d\d\)\s*$/.exec(procVersion.trim())
    : null;
  return m ? { release, debianVersion: m[1] } : { release };
}
