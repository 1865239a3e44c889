import type { KeyObject } from 'node:crypto';
import { type Baseline, readBaseline, writeBaseline } from './baseline.js';
import { type Change, diffEntries } from './diff.js';
import { type ScanProgress, scan } from './scan.js';

export interface BaselineInput {
  file: string;
  root: string;
  paths: string[];
  deviceId: string;
  key: KeyObject;
  publicKey: Uint8Array;
  nowMs: number;
  onProgress?: (p: ScanProgress) => void;
}

/** `integrity baseline`: scans and writes the signed baseline. */
export async function makeBaseline(
  i: BaselineInput,
): Promise<{ digest: string; files: number; missing: string[] }> {
  const { entries, missing } = await scan(i.root, i.paths, i.onProgress);
  const b: Baseline = {
    type: 'integrity-baseline',
    version: 1,
    deviceId: i.deviceId,
    createdAt: new Date(i.nowMs).toISOString(),
    root: i.root,
    paths: i.paths,
    missing,
    entries,
  };
  return {
    digest: writeBaseline(i.file, b, i.key, i.publicKey),
    files: entries.filter((e) => e.type === 'file').length,
    missing,
  };
}

/** The integrity report (the `reports` stream's `integrity` kind). */
export interface IntegrityReport {
  baselineDigest: string;
  baselineCreatedAt: string;
  checkedAt: string;
  paths: string[];
  files: number;
  changes: Change[];
  summary: Record<Change['kind'], number>;
}

/** `integrity verify`: checks the baseline's signature, scans the same paths again and compares. */
export async function verifyAgainstBaseline(
  file: string,
  publicKey: Uint8Array,
  root: string,
  nowMs: number,
  onProgress?: (p: ScanProgress) => void,
): Promise<IntegrityReport> {
  const { baseline, digest } = readBaseline(file, publicKey);
  const now = await scan(root, baseline.paths, onProgress);
  const changes = diffEntries(baseline.entries, now.entries);
  const summary = { modified: 0, added: 0, removed: 0, perms_changed: 0 };
  for (const c of changes) summary[c.kind]++;
  return {
    baselineDigest: digest,
    baselineCreatedAt: baseline.createdAt,
    checkedAt: new Date(nowMs).toISOString(),
    paths: baseline.paths,
    files: now.entries.filter((e) => e.type === 'file').length,
    changes,
    summary,
  };
}
