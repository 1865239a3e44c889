import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What every row is given: the mode, a seeded random source and a scratch folder. */
export interface Ctx {
  quick: boolean;
  seed: number;
  rng: Rng;
  /** A fresh folder for this row, removed after it. */
  dir: string;
  log: (msg: string) => void;
}

/** What a row counted. A defect names the case that reproduces it. */
export interface RowResult {
  /** How many cycles, cases or executions really ran. */
  cases: number;
  unit: 'cycles' | 'cases' | 'execs' | 'kills' | 'runs' | 'mutants' | 's';
  /** Accepted items that did not arrive and whose loss was not reported. */
  lost: number;
  /** Items stored more than once at the collector (or accepted twice). */
  duplicates: number;
  /** Crashes of the code under test, or hangs past the row's bound. */
  crashes: number;
  defects: string[];
  /** Extra figures worth printing (RSS, p99, ...). */
  notes?: string;
}

export interface Row {
  id: string;
  what: string;
  /**
   * false: the row found a defect that is not fixed yet (reported in the README):
   * it runs in the full run only, so CI's --quick stays green for what is fixed.
   */
  inQuick?: boolean;
  /** Runs beside the other rows in the full run (started first, reported in its place). */
  beside?: boolean;
  run(ctx: Ctx): Promise<RowResult>;
}

export type Verdict = 'pass' | 'FAIL';

export interface RowReport extends RowResult {
  id: string;
  what: string;
  verdict: Verdict;
  seconds: number;
}

export function verdictOf(r: RowResult): Verdict {
  return r.cases > 0 && r.lost === 0 && r.duplicates === 0 && r.crashes === 0 && r.defects.length === 0
    ? 'pass'
    : 'FAIL';
}

/** A small seeded PRNG (mulberry32): a failing case is reproduced with `--seed`. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
}

export const emptyResult = (unit: RowResult['unit']): RowResult => ({
  cases: 0,
  unit,
  lost: 0,
  duplicates: 0,
  crashes: 0,
  defects: [],
});

export function scratch(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `torture-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keeps at most `max` defect descriptions (the first ones reproduce the failure; the count says the rest). */
export function addDefect(r: RowResult, text: string, max = 5): void {
  if (r.defects.length < max) r.defects.push(text);
  else if (r.defects.length === max) r.defects.push('... more cases failed the same way');
}

/** Bytes a terminal would interpret: C0 controls other than tab and newline, DEL, C1 controls, bidi overrides. */
export function rawControls(s: string): string[] {
  const found: string[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (
      (c < 0x20 && c !== 0x09 && c !== 0x0a) ||
      c === 0x7f ||
      (c >= 0x80 && c < 0xa0) ||
      (c >= 0x202a && c <= 0x202e) ||
      (c >= 0x2066 && c <= 0x2069)
    )
      found.push(`U+${c.toString(16).padStart(4, '0')}`);
  }
  return found;
}

/**
 * Runs `lane` `n` times side by side, each with its own share of `cycles`, its own seeded
 * random source (lane 0 keeps the row's) and, inside `lane`, its own World: a kill cycle
 * is mostly a daemon's start (CPU) and then a wait (idle), so two lanes on two cores
 * get through nearly twice the cycles. Sums what the lanes counted.
 */
export async function inLanes(
  ctx: Ctx,
  n: number,
  cycles: number,
  lane: (c: Ctx, share: number) => Promise<RowResult>,
): Promise<RowResult> {
  const settled = await Promise.allSettled(
    Array.from({ length: n }, async (_, i) => {
      await sleep(i * 1000); // staggered set-ups: each picks its own free ports
      const share = Math.floor(cycles / n) + (i < cycles % n ? 1 : 0);
      const log = n > 1 ? (m: string) => ctx.log(`lane ${i}: ${m}`) : ctx.log;
      return lane({ ...ctx, rng: i === 0 ? ctx.rng : new Rng(ctx.seed + 7919 * i), log }, share);
    }),
  );
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const results = settled.map((s) => (s as PromiseFulfilledResult<RowResult>).value);
  const sum = emptyResult(results[0].unit);
  for (const [i, r] of results.entries()) {
    sum.cases += r.cases;
    sum.lost += r.lost;
    sum.duplicates += r.duplicates;
    sum.crashes += r.crashes;
    for (const d of r.defects) addDefect(sum, n > 1 ? `lane ${i}: ${d}` : d);
  }
  const notes = results.map((r, i) => (n > 1 ? `lane ${i}: ${r.notes ?? ''}` : (r.notes ?? '')));
  sum.notes = notes.filter((s) => s.length > 0).join('; ');
  return sum;
}
