import { Severity } from '../core/index.js';
import { defaultPasswords, extraUid0 } from './checks-accounts.js';
import { softwareVulnerabilities } from './checks-software.js';
import {
  sshCrypto,
  sshEmptyPasswords,
  sshMaxAuthTries,
  sshPasswordAuth,
  sshRootLogin,
} from './checks-ssh.js';
import {
  agentKeyPerms,
  autoUpdates,
  debugInterfaces,
  firewall,
  listeners,
  shadowPerms,
  timeSync,
  worldWritableEtc,
} from './checks-system.js';
import { agentTransport } from './checks-transport.js';
import type { AuditContext, Check, CheckResult, Status } from './types.js';

/** Every check, in report order. */
export const CHECKS: Check[] = [
  defaultPasswords,
  extraUid0,
  sshRootLogin,
  sshPasswordAuth,
  sshEmptyPasswords,
  sshMaxAuthTries,
  sshCrypto,
  listeners,
  agentKeyPerms,
  shadowPerms,
  worldWritableEtc,
  timeSync,
  firewall,
  autoUpdates,
  softwareVulnerabilities,
  debugInterfaces,
  agentTransport,
];

/** A check's description with what it found. */
export type CheckOutcome = Omit<Check, 'run'> & CheckResult;

export interface AuditReport {
  root: string;
  checkedAt: string;
  /** 0-100: severity-weighted share of applicable checks that pass (not-readable counts as not passing). */
  score: number;
  counts: Record<Status, number>;
  /** Any failing check of severity HIGH or CRITICAL. */
  highFailures: string[];
  checks: CheckOutcome[];
  /** Per ETSI EN 303 645 provision: the checks that evidence it and the verdict. */
  etsi: { provision: string; checks: string[]; status: 'compliant' | 'non-compliant' | 'unknown' }[];
}

const WEIGHT: Record<number, number> = {
  [Severity.INFO]: 0,
  [Severity.LOW]: 1,
  [Severity.MEDIUM]: 2,
  [Severity.HIGH]: 3,
  [Severity.CRITICAL]: 5,
};

/** Runs the checks; one that throws is reported `not-readable` with its reason, never `pass`. */
export async function runAudit(
  ctx: AuditContext,
  nowMs: number,
  checks: Check[] = CHECKS,
): Promise<AuditReport> {
  const out: CheckOutcome[] = [];
  for (const c of checks) {
    let r: CheckResult;
    try {
      r = await c.run(ctx);
    } catch (e) {
      r = {
        status: 'not-readable',
        detail: `the check could not run: ${(e as Error).message}`,
        evidence: [],
      };
    }
    const { run: _run, ...meta } = c;
    out.push({ ...meta, ...r });
  }
  const counts: Record<Status, number> = { pass: 0, fail: 0, 'not-applicable': 0, 'not-readable': 0 };
  let total = 0;
  let got = 0;
  for (const o of out) {
    counts[o.status]++;
    if (o.status === 'not-applicable') continue;
    total += WEIGHT[o.severity];
    if (o.status === 'pass') got += WEIGHT[o.severity];
  }
  const provisions = new Map<string, CheckOutcome[]>();
  for (const o of out) for (const p of o.etsi) provisions.set(p, [...(provisions.get(p) ?? []), o]);
  const etsi = [...provisions.entries()]
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([provision, cs]) => ({
      provision,
      checks: cs.map((c) => c.id),
      status: cs.some((c) => c.status === 'fail')
        ? ('non-compliant' as const)
        : cs.some((c) => c.status === 'not-readable') || cs.every((c) => c.status === 'not-applicable')
          ? ('unknown' as const)
          : ('compliant' as const),
    }));
  return {
    root: ctx.root,
    checkedAt: new Date(nowMs).toISOString(),
    score: total === 0 ? 100 : Math.round((100 * got) / total),
    counts,
    highFailures: out.filter((o) => o.status === 'fail' && o.severity >= Severity.HIGH).map((o) => o.id),
    checks: out,
    etsi,
  };
}
