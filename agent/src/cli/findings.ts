import type { Finding } from '../audit/index.js';
import { ExitCode, type Severity, shown } from '../core/index.js';
import { type Io, println, table } from './io.js';

/** A finding as shown: the audit's also carry a severity, a title and their standing remedy. */
export type ShownFinding = Finding & { severity?: Severity; title?: string; remedy?: string };

const SEV = ['', 'info', 'low', 'medium', 'high', 'critical'];
const HEADING: Partial<Record<Finding['status'], string>> = {
  fail: 'FAIL',
  warn: 'WARN',
  'not-readable': 'NOT READABLE',
};

/**
 * The one renderer of check reports (`audit`, `doctor`, `enroll`): a table of
 * every check (severity and timing columns when any check has them), then each
 * problem with its evidence and its fix.
 */
export function printFindings(io: Io, findings: ShownFinding[]): void {
  const sev = findings.some((f) => f.severity !== undefined);
  const timed = findings.some((f) => f.ms !== undefined);
  println(
    io.stdout,
    table(
      ['check', ...(sev ? ['severity'] : []), 'result', ...(timed ? ['time'] : []), 'detail'],
      findings.map((f) => [
        f.id,
        ...(sev ? [SEV[f.severity ?? 0]] : []),
        f.status,
        ...(timed ? [f.ms === undefined ? '' : `${f.ms} ms`] : []),
        f.detail,
      ]),
    ),
  );
  for (const f of findings) {
    const heading = HEADING[f.status];
    const fix = f.fix ?? f.remedy;
    if (!heading || (!fix && !f.evidence?.length)) continue;
    println(io.stdout, `\n${heading} ${f.id}${f.title ? `: ${f.title}` : ''}`);
    for (const e of (f.evidence ?? []).slice(0, 10))
      println(io.stdout, `  ${shown(e.file)}${e.line ? `:${e.line}` : ''}  ${shown(e.text)}`);
    if (fix) println(io.stdout, `  fix: ${fix}`);
  }
}

/** 2 when a check fails or could not read its input, 1 when one warns, else 0. */
export function exitCodeOf(findings: Finding[]): number {
  if (findings.some((f) => f.status === 'fail' || f.status === 'not-readable')) return ExitCode.Failed;
  return findings.some((f) => f.status === 'warn') ? ExitCode.Findings : ExitCode.Ok;
}
