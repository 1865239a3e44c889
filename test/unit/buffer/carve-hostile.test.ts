import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { carveRecords } from '../../../agent/src/buffer/carve.js';
import { salvage } from '../../../agent/src/buffer/salvage.js';
import { Stream } from '../../../agent/src/core/index.js';
import { tempDir } from '../../helpers/paths.js';

const PAGE = 4096;
const silent = () => undefined;
const nothing = () => undefined;

/** Page 1 of a database: its 100-byte header with the given raw page-size field, the rest zero (no b-tree). */
function header(rawPageSize: number): Buffer {
  const p = Buffer.alloc(PAGE);
  p.write('SQLite format 3\0', 0, 'latin1');
  p.writeUInt16BE(rawPageSize, 16);
  return p;
}

/** An SQLite varint of `n` (n < 2^21). */
const varint = (n: number): Buffer =>
  n < 0x80
    ? Buffer.from([n])
    : n < 0x4000
      ? Buffer.from([(n >> 7) | 0x80, n & 0x7f])
      : Buffer.from([(n >> 14) | 0x80, ((n >> 7) & 0x7f) | 0x80, n & 0x7f]);

/**
 * A hostile file: page 2 is a table leaf whose `cells` cell pointers all name
 * one cell, whose payload overflows into a chain of `chain` pages (3, 4, ...).
 */
function oneChainManyCells(file: string, cells: number, chain: number): number {
  const usable = PAGE;
  const m = Math.floor(((usable - 12) * 32) / 255) - 23;
  const size = m + chain * (usable - 4); // SQLite keeps m bytes local for this size
  const leaf = Buffer.alloc(PAGE);
  leaf[0] = 0x0d;
  leaf.writeUInt16BE(cells, 3);
  const at = 8 + 2 * cells + 16;
  for (let i = 0; i < cells; i++) leaf.writeUInt16BE(at, 8 + 2 * i);
  const cell = Buffer.concat([varint(size), varint(1), Buffer.alloc(m, 0x01)]);
  cell.copy(leaf, at);
  leaf.writeUInt32BE(3, at + cell.length);
  const pages = [header(PAGE), leaf];
  for (let i = 0; i < chain; i++) {
    const o = Buffer.alloc(PAGE, 0x01);
    o.writeUInt32BE(i + 1 < chain ? 4 + i : 0, 0);
    pages.push(o);
  }
  writeFileSync(file, Buffer.concat(pages));
  return pages.length;
}

it('a page of cells that all name one long overflow chain costs reads bounded by the file, not cells x chain (#12)', () => {
  const t = tempDir();
  try {
    const file = join(t.dir, 'hostile.db');
    const pages = oneChainManyCells(file, 1000, 200);
    const r = carveRecords(file, nothing);
    assert.equal(r.pages, 1, 'one leaf');
    assert.ok(r.chained <= 4 * pages + 1024, `${r.chained} overflow pages read for a file of ${pages}`);
  } finally {
    t.cleanup();
  }
});

it('salvage of a range no outbox could hold (a damaged journal or table claims it) loses it whole without tracking each seq (#12)', () => {
  const t = tempDir();
  try {
    const file = join(t.dir, 'gone.db');
    const huge = { stream: Stream.TELEMETRY, epoch: 3, fromSeq: 1, toSeq: 2 ** 50 };
    const small = { stream: Stream.EVENTS, epoch: 3, fromSeq: 4, toSeq: 5 };
    const { rows, lost } = salvage(file, [huge, small], silent);
    assert.deepEqual(rows, []);
    assert.deepEqual(
      lost.map((r) => [r.stream, r.fromSeq, r.toSeq, r.rows, r.reason]),
      [
        [Stream.TELEMETRY, 1, 2 ** 50, 2 ** 50, 'corrupt'],
        [Stream.EVENTS, 4, 5, 2, 'corrupt'],
      ],
    );
  } finally {
    t.cleanup();
  }
});

it('hostile shapes carve to nothing without throwing: 0 bytes, page size 0/1/65536, a truncated page, a sparse file, a WAL of garbage frames', () => {
  const t = tempDir();
  try {
    const file = join(t.dir, 'x.db');
    const carve = () => carveRecords(file, () => assert.fail('no record is in there'));
    writeFileSync(file, Buffer.alloc(0));
    assert.deepEqual(carve(), { pages: 0, bad: 0, chained: 0 });
    for (const raw of [0, 1, 0xffff]) {
      writeFileSync(file, Buffer.concat([header(raw), Buffer.alloc(PAGE + 100, 0x0d)]));
      assert.equal(
        carve().pages,
        raw === 1 ? 0 : 1,
        `page size field ${raw}: read as 65536 (no whole page) or 4096`,
      );
    }
    const fd = openSync(file, 'w');
    ftruncateSync(fd, 64 * 1024 * 1024);
    closeSync(fd);
    assert.deepEqual(carve(), { pages: 0, bad: 0, chained: 0 });
    const wal = Buffer.alloc(32 + 40 * (24 + PAGE), 0xa5);
    wal.writeUInt32BE(0x377f0682, 0);
    wal.writeUInt32BE(PAGE, 8);
    for (let i = 0; i < 40; i++) {
      const at = 32 + i * (24 + PAGE);
      wal.copy(wal, at + 8, 16, 24); // the header's salt: frames of this WAL generation
      wal.writeUInt32BE(i % 2 ? 0xffffffff : 2, at);
      wal[at + 24] = 0x0d; // a table leaf of 0xa5a5 cells pointing at garbage
    }
    const w = openSync(`${file}-wal`, 'w');
    writeSync(w, wal);
    closeSync(w);
    const r = carve();
    assert.equal(r.pages, 40, 'every frame read');
    assert.ok(r.bad > 0);
  } finally {
    t.cleanup();
  }
});
