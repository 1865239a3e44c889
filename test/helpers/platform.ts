import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KeyRing, verifyEnvelope } from '../../agent/src/telemetry/index.js';
import { MIGRATIONS, Store } from '../../platform/src/store/index.js';

/**
 * A migrated PGlite store folder for a test. PGlite's first start (initdb in WASM) takes
 * 10-20 s on this machine; a copy of a folder made once by the same code opens in about 1 s.
 * The template is keyed by the migrations, so a schema change makes a new one.
 */
export async function pgliteStore(dir: string): Promise<string> {
  const tag = createHash('sha256')
    .update(MIGRATIONS.map((m) => m.sql).join('\n'))
    .digest('hex')
    .slice(0, 12);
  const template = join(tmpdir(), `edge-pglite-template-${tag}`);
  if (!existsSync(template)) {
    const work = mkdtempSync(join(tmpdir(), 'edge-pglite-new-'));
    const s = new Store({ url: `pglite:${join(work, 'db')}` });
    await s.start();
    await s.stop();
    try {
      renameSync(join(work, 'db'), template);
    } catch {
      // Another test process made it first: theirs is as good.
    }
    rmSync(work, { recursive: true, force: true });
  }
  cpSync(template, dir, { recursive: true });
  return `pglite:${dir}`;
}

/** One stored batch, verified again with the registry's keys. */
export interface StoredBatch {
  device: string;
  stream: number;
  epoch: number;
  seq: number;
  envelope: Uint8Array;
}

/** Every stored batch in arrival order. */
export async function storedBatches(store: Store): Promise<StoredBatch[]> {
  const rows = await store.db.query<{
    device_id: string;
    stream: number;
    epoch: number;
    seq: number;
    envelope: Uint8Array;
  }>('SELECT device_id, stream, epoch, seq, envelope FROM batches ORDER BY arrival');
  return rows.map((r) => ({
    device: r.device_id,
    stream: Number(r.stream),
    epoch: Number(r.epoch),
    seq: Number(r.seq),
    envelope: r.envelope,
  }));
}

/** The reading values of stored batches, each envelope verified again. */
export function valuesOf(batches: StoredBatch[], ring: KeyRing): number[] {
  const out: number[] = [];
  for (const b of batches)
    for (const r of verifyEnvelope(b.envelope, ring).batch.readings) out.push(r.value.value as number);
  return out;
}
