import type { BatchRef } from '../compliance/index.js';

export const FINDING_SEVERITIES = ['critical', 'high', 'medium', 'low', 'unknown'] as const;
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];

/** One vulnerable package of a gateway's own software, from its latest SBOM report. */
export interface SoftwareFinding {
  /** The package as installed (deb binary package, npm package, or the kernel). */
  package: string;
  version: string;
  purl: string;
  /** CVE id (or the advisory id when there is none). */
  cve: string;
  severity: FindingSeverity;
  /** CVSS base score, where the feed has one. */
  cvss: number | null;
  /** Listed as known exploited (CISA KEV). */
  kev: boolean;
  /** The lowest fixed version above the installed one; null when there is no fix yet. */
  fixed: string | null;
  summary: string | null;
}

/** What the latest SBOM report of a gateway says, in short. */
export interface SbomSummary {
  deviceId: string;
  reportedAt: string;
  /** The signed batch the SBOM came in. */
  source: BatchRef;
  components: number;
  /** Distinct packages with at least one finding; of them, with a known exploited one; with a critical one. */
  vulnerablePackages: number;
  kevPackages: number;
  criticalPackages: number;
  serialNumber: string | null;
  /** The version of the signed vulnerability feed the gateway judged with (null: none in force). */
  feedVersion: number | null;
  os: string | null;
  /** Why the report could not be read (its counts are then 0): never a clean bill of health. */
  problem: string | null;
}

/** A parsed SBOM report: its summary fields and its findings. */
export interface ParsedSbom {
  components: number;
  serialNumber: string | null;
  feedVersion: number | null;
  os: string | null;
  findings: SoftwareFinding[];
}
