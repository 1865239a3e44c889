import { closeSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { STREAMS, type Stream } from '../core/index.js';
import type { EvictionRange } from './eviction.js';

/** The highest seq sealed per stream in one epoch, as last committed. */
export interface HighWater {
  epoch: number;
  seqs: Map<Stream, number>;
}

const MAGIC = 0x45414857; // "EAHW"
const VERSION = 1;
const SIZE = 8 + 8 + 8 * STREAMS.length + 4;

/**
 * A high-water mark of sealed seqs kept outside the database and synced after
 * each commit. SQLite replays its WAL only up to the first bad frame: a
 * flipped bit there silently takes the chain back to an older commit, and
 * `quick_check` still says ok. Comparing the database's heads with this mark at
 * open tells exactly which accepted batches were lost, so they are reported
 * and their seqs never reused. One small fixed-size record with a CRC: a torn
 * or rotten mark reads as absent (nothing can be said), never as a loss.
 */
export class HighWaterMark {
  private fd: number | undefined;

  constructor(private readonly file: string) {}

  read(): HighWater | null {
    let b: Buffer;
    try {
      b = readFileSync(this.file);
    } catch {
      return null;
    }
    if (b.length !== SIZE || b.readUInt32LE(0) !== MAGIC || b.readUInt32LE(4) !== VERSION) return null;
    if (crc32(b.subarray(0, SIZE - 4)) !== b.readUInt32LE(SIZE - 4)) return null;
    const seqs = new Map<Stream, number>();
    for (const [i, s] of STREAMS.entries()) seqs.set(s, b.readDoubleLE(16 + 8 * i));
    return { epoch: b.readDoubleLE(8), seqs };
  }

  /** Records the heads just committed, durably. */
  write(epoch: number, seq: (stream: Stream) => number): void {
    const b = Buffer.alloc(SIZE);
    b.writeUInt32LE(MAGIC, 0);
    b.writeUInt32LE(VERSION, 4);
    b.writeDoubleLE(epoch, 8);
    for (const [i, s] of STREAMS.entries()) b.writeDoubleLE(seq(s), 16 + 8 * i);
    b.writeUInt32LE(crc32(b.subarray(0, SIZE - 4)), SIZE - 4);
    this.fd ??= openSync(this.file, 'w', 0o600);
    // One write well inside a sector at offset 0: it lands whole or not at all on the storage we target.
    writeSync(this.fd, b, 0, SIZE, 0);
    fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The ranges sealed up to the mark but above the database's heads: committed, then lost. */
export function lostRanges(hw: HighWater, head: (stream: Stream) => number): EvictionRange[] {
  return STREAMS.flatMap((stream) => {
    const seq = head(stream);
    const mark = hw.seqs.get(stream) ?? 0;
    return mark > seq
      ? [{ stream, fromSeq: seq + 1, toSeq: mark, rows: mark - seq, items: 0, reason: 'lost' as const }]
      : [];
  });
}
