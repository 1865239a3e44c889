import {
  closeSync,
  constants,
  fdatasyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { crc32 } from 'node:zlib';
import { STREAMS, type Stream } from '../core/index.js';
import type { EvictionRange } from './eviction.js';

/** The highest seq sealed per stream in one epoch, as last committed, and (v2) that batch's payload hash. */
export interface HighWater {
  epoch: number;
  seqs: Map<Stream, number>;
  /** Absent in a v1 mark. */
  hashes?: Map<Stream, Uint8Array>;
}

const MAGIC = 0x45414857; // "EAHW"
const SIZE_V1 = 8 + 8 + 8 * STREAMS.length + 4;
/** v2 adds the 32-byte payload hash of each stream's last batch, after the seqs. */
const SIZE = 8 + 8 + 40 * STREAMS.length + 4;
const HASHES_AT = 16 + 8 * STREAMS.length;

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
    const version = b.length >= 8 ? b.readUInt32LE(4) : 0;
    const size = version === 1 ? SIZE_V1 : SIZE;
    if (b.length !== size || b.readUInt32LE(0) !== MAGIC || (version !== 1 && version !== 2)) return null;
    if (crc32(b.subarray(0, size - 4)) !== b.readUInt32LE(size - 4)) return null;
    const seqs = new Map<Stream, number>();
    for (const [i, s] of STREAMS.entries()) seqs.set(s, b.readDoubleLE(16 + 8 * i));
    if (version === 1) return { epoch: b.readDoubleLE(8), seqs };
    const hashes = new Map<Stream, Uint8Array>();
    for (const [i, s] of STREAMS.entries())
      hashes.set(s, new Uint8Array(b.subarray(HASHES_AT + 32 * i, HASHES_AT + 32 * i + 32)));
    return { epoch: b.readDoubleLE(8), seqs, hashes };
  }

  /** Records the heads just committed (seq and payload hash per stream), durably. */
  write(epoch: number, head: (stream: Stream) => { seq: number; prevHash: Uint8Array }): void {
    const b = Buffer.alloc(SIZE);
    b.writeUInt32LE(MAGIC, 0);
    b.writeUInt32LE(2, 4);
    b.writeDoubleLE(epoch, 8);
    for (const [i, s] of STREAMS.entries()) {
      const h = head(s);
      b.writeDoubleLE(h.seq, 16 + 8 * i);
      b.set(h.prevHash.subarray(0, 32), HASHES_AT + 32 * i);
    }
    b.writeUInt32LE(crc32(b.subarray(0, SIZE - 4)), SIZE - 4);
    // Never through a symlink (it would overwrite whatever it points at), and not truncated at open:
    // a crash between an emptying open and the first write would leave no mark at all.
    const opened = this.fd === undefined;
    this.fd ??= openSync(this.file, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    // One write well inside a sector at offset 0: it lands whole or not at all on the storage we target.
    writeSync(this.fd, b, 0, SIZE, 0);
    // Once per open (cuts a longer mark of an older version): later writes keep the size, and a
    // truncate each time also dirties the inode for nothing.
    if (opened) ftruncateSync(this.fd, SIZE);
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
