import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { distTest, tempDir } from '../helpers/paths.js';

/** Runs the child on a fresh tmpfs of `size`, mounted in a private user+mount namespace. */
function onTmpfs(size: string, phase: string): Record<string, unknown> {
  const t = tempDir();
  try {
    const mnt = join(t.dir, 'mnt');
    mkdirSync(mnt);
    const child = join(distTest, 'fixtures/children/disk-full.js');
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
        child,
        phase,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.status, 0, `child failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  } finally {
    t.cleanup();
  }
}

describe('a real small filesystem', () => {
  it('filled by another process: appends fail cleanly, nothing accepted is lost, it recovers when space returns', () => {
    const r = onTmpfs('6m', 'filler');
    assert.ok((r.failures as number) > 0, 'appends on a full disk fail');
    assert.equal(r.otherErrors, 0, `only BufferFullError: ${String(r.otherError)}`);
    assert.equal(r.integrityWhileFull, 'ok');
    assert.ok((r.headWhileFull as number) >= 10);
    assert.equal(
      r.markWhileFull,
      r.headWhileFull,
      'the marks written ahead of the failed commits were put back',
    );
    assert.equal(r.recovered, 20, 'appends work again once space is freed');
    assert.equal(r.missing, 0, 'every accepted reading is present');
    assert.equal(r.integrity, 'ok');
    const seqs = r.seqs as number[];
    assert.deepEqual(
      seqs,
      Array.from({ length: seqs.length }, (_, i) => i + 1),
      'seqs contiguous: failed appends used none',
    );
  });

  it('full when the outbox opens after a power cut (its WAL left): it opens, and every reading is there', () => {
    // Hostile review: PRAGMA auto_vacuum set again on an existing file wrote its header, and the
    // SQLITE_FULL killed the daemon at every start while the card stayed full.
    const r = onTmpfs('6m', 'reopen-full');
    assert.equal(r.reopened, true);
    assert.equal(r.missing, 0, 'every accepted reading is present');
    assert.equal(r.integrity, 'ok');
  });

  it('with a free-space threshold: evicts with notices instead of ever filling it', () => {
    const r = onTmpfs('12m', 'threshold');
    assert.equal(r.integrity, 'ok');
    assert.ok((r.eventRows as number) > 0, 'eviction notices were written');
    const seqs = r.seqs as number[];
    assert.equal(seqs.at(-1), r.lastSeq, 'the newest batch is kept');
    assert.ok(seqs.length < (r.lastSeq as number), 'older batches were evicted');
    assert.equal(
      (r.evictedBatches as number) + seqs.length,
      r.lastSeq,
      'every batch is kept or covered by a notice',
    );
  });
});
