// CVSS v3.0/v3.1 base score from a vector string (FIRST's specification,
// section 7.1); OSV records carry vectors, not scores.

const W = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  CIA: { H: 0.56, L: 0.22, N: 0 },
} as const;

/** CVSS's "round up to one decimal", done on integers so 4.02 does not become 4.1 by float error. */
function roundUp(x: number): number {
  const i = Math.round(x * 100000);
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10;
}

/** The base score of a `CVSS:3.x/AV:../AC:../PR:../UI:../S:../C:../I:../A:..` vector, or undefined. */
export function cvss3BaseScore(vector: string): number | undefined {
  const m = /^CVSS:3\.[01]\/(.*)$/.exec(vector.trim());
  if (!m) return undefined;
  const f = Object.fromEntries(m[1].split('/').map((p) => p.split(':') as [string, string]));
  const av = W.AV[f.AV as keyof typeof W.AV];
  const ac = W.AC[f.AC as keyof typeof W.AC];
  const ui = W.UI[f.UI as keyof typeof W.UI];
  const scope = f.S;
  const [c, i, a] = [f.C, f.I, f.A].map((x) => W.CIA[x as keyof typeof W.CIA]);
  const prTable = scope === 'C' ? { N: 0.85, L: 0.68, H: 0.5 } : { N: 0.85, L: 0.62, H: 0.27 };
  const pr = prTable[f.PR as keyof typeof prTable];
  if ([av, ac, ui, pr, c, i, a].some((x) => x === undefined) || (scope !== 'U' && scope !== 'C'))
    return undefined;
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = scope === 'U' ? 6.42 * iss : 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15;
  if (impact <= 0) return 0;
  const exploitability = 8.22 * av * ac * pr * ui;
  return scope === 'U'
    ? roundUp(Math.min(impact + exploitability, 10))
    : roundUp(Math.min(1.08 * (impact + exploitability), 10));
}

/** The qualitative rating of a score (CVSS v3 table 14). */
export function severityOf(score: number): 'critical' | 'high' | 'medium' | 'low' | 'unknown' {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'unknown';
}
