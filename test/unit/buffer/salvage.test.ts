import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import Database from 'better-sqlite3';
import { salvage } from '../../../agent/src/buffer/salvage.js';
import { ManualClock, type SealedBatch, Stream } from '../../../agent/src/core/index.js';
import { type KeyRing, verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { tempDir } from '../../helpers/paths.js';

const silent = () => undefined;

/** An outbox file of `n` telemetry rows (padded by `pad` bytes), checkpointed and closed. */
async function filled(
  dir: string,
  n: number,
  pad: number,
): Promise<{ file: string; epoch: number; batches: SealedBatch[]; ring: KeyRing }> {
  const clock = new ManualClock();
  const { sealer, ring } = testSealer('gw-test', clock);
  const ob = makeOutbox(dir, { clock, sealer });
  await ob.start();
  const batches: SealedBatch[] = [];
  for (let i = 0; i < n; i++)
    batches.push(...(await ob.append([{ stream: Stream.TELEMETRY, items: [reading(i, pad)] }])));
  const epoch = ob.epoch;
  await ob.stop();
  return { file: join(dir, 'outbox.db'), epoch, batches, ring };
}

/** The pages of a table or index, by type, and the seqs of the rows each leaf holds (SQLite's dbstat). */
function layout(file: string): { root: number; index: number; leaves: { page: number; seqs: number[] }[] } {
  const db = new Database(file, { readonly: true });
  try {
    const root = db
      .prepare<[], { p: number }>("SELECT rootpage AS p FROM sqlite_master WHERE name = 'outbox'")
      .get()!.p;
    const index = db
      .prepare<[], { p: number }>("SELECT rootpage AS p FROM sqlite_master WHERE name = 'outbox_stream_seq'")
      .get()!.p;
    const pages = db
      .prepare<[], { pageno: number; ncell: number }>(
        "SELECT pageno, ncell FROM dbstat WHERE name = 'outbox' AND pagetype = 'leaf' ORDER BY path",
      )
      .all();
    const seqs = db
      .prepare<[], { seq: number }>('SELECT seq FROM outbox ORDER BY id')
      .all()
      .map((r) => r.seq);
    const leaves = pages.map((p, i) => {
      const at = pages.slice(0, i).reduce((n, q) => n + q.ncell, 0);
      return { page: p.pageno, seqs: seqs.slice(at, at + p.ncell) };
    });
    return { root, index, leaves };
  } finally {
    db.close();
  }
}

function scribble(file: string, page: number, size = 4096): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(size, 0x5a), 0, size, (page - 1) * size);
  closeSync(fd);
}

it('salvage reads every intact row of a file whose header, schema, table root and index are destroyed; the rows of a destroyed leaf are lost by exact range', async () => {
  const t = tempDir();
  try {
    const { file, epoch, batches, ring } = await filled(t.dir, 300, 300);
    const { root, index, leaves } = layout(file);
    assert.ok(leaves.length >= 8 && root !== 1, `a b-tree of ${leaves.length} leaves under root ${root}`);
    const gone = leaves[3];
    for (const p of [1, root, index, gone.page]) scribble(file, p);
    const raw = new Database(file, { readonly: true, fileMustExist: true });
    assert.throws(() => raw.prepare('SELECT count(*) FROM outbox').get(), 'SQLite itself cannot read it');
    raw.close();

    const { rows, lost } = salvage(
      file,
      [{ stream: Stream.TELEMETRY, epoch, fromSeq: 1, toSeq: 300 }],
      silent,
    );
    const expected = batches.map((b) => b.seq).filter((q) => !gone.seqs.includes(q));
    assert.deepEqual(
      rows.map((r) => r.seq),
      expected,
    );
    for (const r of rows) {
      const { batch } = verifyEnvelope(r.envelope, ring);
      assert.deepEqual(
        [batch.epoch, batch.seq, batch.stream],
        [epoch, r.seq, Stream.TELEMETRY],
        'sealed as it was',
      );
    }
    assert.deepEqual(lost, [
      {
        stream: Stream.TELEMETRY,
        epoch,
        fromSeq: gone.seqs[0],
        toSeq: gone.seqs.at(-1),
        rows: gone.seqs.length,
        items: 0,
        reason: 'corrupt',
      },
    ]);
  } finally {
    t.cleanup();
  }
});

it('salvage follows overflow chains: a row whose overflow page is destroyed is lost alone, and only wanted seqs of the wanted epoch come back', async () => {
  const t = tempDir();
  try {
    const { file, epoch } = await filled(t.dir, 12, 9000);
    const db = new Database(file, { readonly: true });
    const overflow = db
      .prepare<[], { pageno: number; path: string }>(
        "SELECT pageno, path FROM dbstat WHERE name = 'outbox' AND pagetype = 'overflow' ORDER BY path",
      )
      .all();
    db.close();
    assert.ok(overflow.length > 12, 'the envelopes overflow their leaf');
    // dbstat numbers the cells of a leaf in the path: '/000+000001' is the second page of the first row's chain.
    scribble(file, overflow[1].pageno);
    const wanted = [{ stream: Stream.TELEMETRY, epoch, fromSeq: 1, toSeq: 10 }];
    const { rows, lost } = salvage(file, wanted, silent);
    assert.deepEqual(
      rows.map((r) => r.seq),
      [2, 3, 4, 5, 6, 7, 8, 9, 10],
      'seq 11 and 12 are not wanted (sent before)',
    );
    assert.deepEqual(
      lost.map((r) => [r.fromSeq, r.toSeq]),
      [[1, 1]],
    );
    const other = salvage(file, [{ ...wanted[0], epoch: epoch + 1 }], silent);
    assert.equal(other.rows.length, 0, 'rows of another epoch are never taken for these');
  } finally {
    t.cleanup();
  }
});

it('salvage of a file that is not there, or is all garbage, loses every wanted seq by exact range and never throws', async () => {
  const t = tempDir();
  try {
    const file = join(t.dir, 'gone.db');
    const wanted = [
      { stream: Stream.TELEMETRY, epoch: 7, fromSeq: 5, toSeq: 9 },
      { stream: Stream.EVENTS, epoch: 7, fromSeq: 1, toSeq: 1 },
    ];
    assert.ok(!existsSync(file));
    const none = salvage(file, wanted, silent);
    assert.deepEqual(none.rows, []);
    assert.deepEqual(
      none.lost.map((r) => [r.stream, r.fromSeq, r.toSeq, r.rows]),
      [
        [Stream.TELEMETRY, 5, 9, 5],
        [Stream.EVENTS, 1, 1, 1],
      ],
    );
    const fd = openSync(file, 'w');
    writeSync(fd, Buffer.alloc(64 * 1024, 0x0d));
    closeSync(fd);
    assert.deepEqual(salvage(file, wanted, silent).lost, none.lost);
  } finally {
    t.cleanup();
  }
});
