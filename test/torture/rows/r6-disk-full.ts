import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { distTest } from '../../helpers/paths.js';
import { addDefect, type Ctx, emptyResult, type Row, type RowResult } from '../lib.js';

/**
 * Runs the disk-full child of the stress test (test/fixtures/children/disk-full.ts) on a fresh
 * tmpfs of `size`, mounted in a private user and mount namespace.
 */
function onTmpfs(ctx: Ctx, size: string, phase: string): Record<string, unknown> {
  const mnt = join(ctx.dir, `mnt-${phase}`);
  mkdirSync(mnt);
  const r = spawnSync(
    'unshare',
    [
      '-Urm',
      'sh',
      '-c',
      `mount -t tmpfs -o size=${size} tmpfs "$1" && exec "$2" "$3" "$1" "$4"`,
      'sh',
      mnt,
      process.execPath,
      join(distTest, 'fixtures/children/disk-full.js'),
      phase,
    ],
    { encoding: 'utf8', timeout: 300_000 },
  );
  if (r.status !== 0) return { crash: `exit ${r.status ?? r.signal}: ${r.stderr.slice(-500)}` };
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}

function judge(r: RowResult, name: string, res: Record<string, unknown>): void {
  r.cases++;
  if (res.crash) {
    r.crashes++;
    addDefect(r, `${name}: ${String(res.crash)}`);
    return;
  }
  if (res.integrity !== 'ok') addDefect(r, `${name}: integrity_check says ${String(res.integrity)}`);
  const seqs = res.seqs as number[];
  if (seqs.some((s, i) => i > 0 && s <= seqs[i - 1])) addDefect(r, `${name}: seqs out of order or reused`);
  if (name === 'filled by another writer') {
    r.lost += res.missing as number;
    if ((res.failures as number) === 0)
      addDefect(r, `${name}: the disk never filled: the scenario proved nothing`);
    if ((res.otherErrors as number) > 0) {
      r.crashes += res.otherErrors as number;
      addDefect(
        r,
        `${name}: appends failed with something else than BUFFER_DISK_FULL: ${String(res.otherError)}`,
      );
    }
    if (res.recovered !== 20) addDefect(r, `${name}: appends did not recover once space came back`);
  } else {
    // Every evicted batch must be covered by a notice: kept + reported = everything ever sealed.
    const unreported = (res.lastSeq as number) - seqs.length - (res.evictedBatches as number);
    if (unreported !== 0) {
      r.lost += Math.abs(unreported);
      addDefect(r, `${name}: ${unreported} batches neither kept nor reported`);
    }
    if ((res.evictedBatches as number) === 0)
      addDefect(r, `${name}: nothing was evicted: the scenario proved nothing`);
  }
}

/** R6: a real small filesystem (tmpfs in a user namespace), filled by the agent itself and by another writer. */
export const r6: Row = {
  id: 'R6',
  what: 'disk full (tmpfs in a user namespace), filled by the agent and by another writer',
  async run(ctx) {
    const r = emptyResult('runs');
    const filler = onTmpfs(ctx, '6m', 'filler');
    judge(r, 'filled by another writer', filler);
    const threshold = onTmpfs(ctx, '12m', 'threshold');
    judge(r, 'filled by the agent (free-space threshold)', threshold);
    r.notes = `another writer: ${String(filler.failures)} appends refused with BUFFER_DISK_FULL, ${String(filler.missing)} accepted missing; the agent: ${String(threshold.evictedBatches)} batches evicted with notices, ${String(threshold.rows)} kept`;
    return r;
  },
};
