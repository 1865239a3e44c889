/** One piece of the gateway's own software. */
export interface SoftwareComponent {
  kind: 'deb' | 'npm' | 'kernel';
  name: string;
  version: string;
  /** Package URL (pkg:deb/debian/..., pkg:npm/..., pkg:generic/linux@...). */
  purl: string;
  /** deb: the architecture (`arm64`, `all`). */
  arch?: string;
  /** deb: the source package (vulnerabilities are tracked by it) and its version. */
  source?: string;
  sourceVersion?: string;
  /** deb: dpkg's state when not plainly `installed` (half-configured, unpacked...). */
  state?: string;
  /** kernel: the Debian package version the running kernel was built from (from /proc/version). */
  debianVersion?: string;
}

/** The operating system, from the image's os-release. */
export interface OsRelease {
  id: string;
  versionId?: string;
  codename?: string;
  prettyName?: string;
}

/** What the inventory could read, and what it could not. */
export interface SoftwareInventory {
  root: string;
  os?: OsRelease;
  components: SoftwareComponent[];
  /** `absent`: no dpkg database (not a Debian system); `corrupt`: present but unusable. */
  dpkg: { state: 'ok' | 'absent' | 'corrupt'; packages: number; problem?: string };
  warnings: string[];
}

export type FeedSeverity = 'critical' | 'high' | 'medium' | 'low' | 'unknown';

/** Affected versions: from `introduced` (inclusive) to `fixed` (exclusive) or `lastAffected` (inclusive). */
export interface AffectedRange {
  introduced?: string;
  fixed?: string;
  lastAffected?: string;
}

/** One record of the feed: a vulnerability of one package in one ecosystem. */
export interface VulnRecord {
  /** CVE id (or the advisory id when there is none). */
  id: string;
  /** `deb`: `pkg` is a Debian source package; `npm`: an npm package name. */
  eco: 'deb' | 'npm';
  pkg: string;
  /** deb: the Debian release the versions apply to (`bookworm`); absent: every release. */
  release?: string;
  /** Empty: every version is affected and there is no fix. */
  ranges: AffectedRange[];
  severity: FeedSeverity;
  /** CVSS base score, where the source has one. */
  cvss?: number;
  /** Listed as known exploited (CISA KEV). */
  kev?: boolean;
  summary?: string;
}

/** The body of a signed `vulnerabilities` document. */
export interface FeedBody {
  /** Where the records come from (`debian-security-tracker`, `osv`, `cisa-kev`). */
  sources: string[];
  records: VulnRecord[];
}

/** A verified feed in force. */
export interface Feed {
  version: number;
  issuedAt: string;
  /** After this date a feed is refused (the one in force stays, shown as expired). */
  notAfter?: string;
  /** The gateways it is for (absent: every gateway). */
  target?: { devices?: string[]; groups?: string[] };
  sources: string[];
  records: VulnRecord[];
}

/** A vulnerable component. */
export interface Finding {
  id: string;
  component: Pick<SoftwareComponent, 'kind' | 'name' | 'version' | 'purl'>;
  /** The package the feed names (the source package for deb). */
  pkg: string;
  severity: FeedSeverity;
  cvss?: number;
  kev: boolean;
  /** The lowest fixed version above the installed one, when a fix exists. */
  fixed?: string;
  summary?: string;
}
