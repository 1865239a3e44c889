import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { scan } from '../../agent/src/integrity/index.js';

/**
 * Hashes a tree of `totalMb` (64 files of random-looking data) with the
 * integrity scanner, against `sha256sum` over the same files as the raw baseline,
 * recording RSS growth and the event loop's p99 delay meanwhile.
 */
export async function benchIntegrity(dir: string, totalMb: number): Promise<Record<string, number>> {
  const tree = join(dir, 'tree/etc/big');
  mkdirSync(tree, { recursive: true });
  const chunk = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24;
  const files = 64;
  const perFile = Math.max(1, Math.round(totalMb / files));
  for (let f = 0; f < files; f++) {
    const fd = openSync(join(tree, `f${f}.bin`), 'w');
    for (let m = 0; m < perFile; m++) {
      chunk[0] = f;
      chunk[1] = m;
      writeSync(fd, chunk);
    }
    closeSync(fd);
  }
  const lag = monitorEventLoopDelay({ resolution: 10 });
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  lag.enable();
  const t0 = performance.now();
  const r = await scan(join(dir, 'tree'), ['/etc/big']);
  const s = (performance.now() - t0) / 1000;
  lag.disable();
  clearInterval(sampler);
  const { spawnSync } = await import('node:child_process');
  const t1 = performance.now();
  spawnSync('sh', ['-c', `sha256sum ${tree}/*.bin > /dev/null`]);
  const rawS = (performance.now() - t1) / 1000;
  const mb = (files * perFile * 1024 * 1024) / 1e6;
  return {
    integrity_tree_mb: Math.round(mb),
    integrity_files: r.entries.filter((e) => e.type === 'file').length,
    integrity_mb_per_s: Math.round(mb / s),
    raw_sha256sum_mb_per_s: Math.round(mb / rawS),
    integrity_rss_growth_mb: Math.round((peak - rss0) / 1e6),
    integrity_lag_p99_ms: Math.round((lag.percentile(99) / 1e6) * 10) / 10,
  };
}
