import {
  closeSync,
  constants,
  fdatasync,
  fdatasyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { crc32 } from 'node:zlib';
import { STREAMS, type Stream } from '../core/index.js';
import type { EvictionRange } from './eviction.js';
import type { WantedRange } from './salvage.js';

/**
 * The highest seq sealed per stream in one epoch, as of the last commit begun, and (v2) that batch's
 * payload hash. Written before its group commits: a crash during the commit leaves it ahead of the file.
 */
export interface HighWater {
  epoch: number;
  seqs: Map<Stream, number>;
  /** Absent in a v1 mark. */
  hashes?: Map<Stream, Uint8Array>;
  /**
   * (v3) Each stream's floor (every seq at or below it acked or evicted) as of the last commit: a lower
   * bound, as it is written with the groups. What a file found corrupt at open held unsent lies between it
   * and the seq, so that is what a salvage looks for and what it owes notices for.
   */
  floors?: Map<Stream, number>;
}

type Head = { seq: number; prevHash: Uint8Array };
const NONE: Head = { seq: 0, prevHash: new Uint8Array(32) };
const MAGIC = 0x45414857; // "EAHW"
const SIZE_V1 = 8 + 8 + 8 * STREAMS.length + 4;
/** v2 adds the 32-byte payload hash of each stream's last batch, after the seqs. */
const SIZE_V2 = 8 + 8 + 40 * STREAMS.length + 4;
const HASHES_AT = 16 + 8 * STREAMS.length;
/** v3 adds each stream's floor, after the hashes. */
const SIZE = 8 + 8 + 48 * STREAMS.length + 4;
const FLOORS_AT = HASHES_AT + 32 * STREAMS.length;
const VERSION = 3;
/**
 * The highest seq a mark may claim: a batch a millisecond for thousands of years, and far enough below
 * 2^53 that the seqs after it stay exact. A mark past it (or a fraction, a NaN, a floor above its seq),
 * however good its CRC, is rotten: taken as said it would move a head where no append can seal again
 * (the codec refuses seqs past 2^53) or put a range in the quarantine journal that fails its check.
 */
const MAX_SEQ = 2 ** 48;
const isSeq = (n: number): boolean => Number.isSafeInteger(n) && n >= 0 && n <= MAX_SEQ;
type Floors = ReadonlyMap<Stream, number>;

/**
 * A high-water mark of sealed seqs kept outside the database. SQLite replays
 * its WAL only up to the first bad frame: a flipped bit there silently takes
 * the chain back to an older commit, and `quick_check` still says ok.
 * Comparing the database's heads with this mark at open tells which batches
 * past the heads were sealed for a commit, so they are reported and their seqs
 * never reused. The mark of a group is written before its commit and synced
 * while SQLite syncs the commit (one fsync's wait instead of two); the group is
 * answered once both are on disk. One small fixed-size record with a CRC: a
 * torn or rotten mark reads as absent (nothing can be said), never as a loss.
 */
export class HighWaterMark {
  private fd: number | undefined;

  constructor(
    private readonly file: string,
    private readonly log: (level: 'warn' | 'error', obj: Record<string, unknown>, msg: string) => void = () =>
      undefined,
  ) {}

  read(): HighWater | null {
    let b: Buffer;
    try {
      b = readFileSync(this.file);
    } catch {
      return null;
    }
    const version = b.length >= 8 ? b.readUInt32LE(4) : 0;
    const size = version === 1 ? SIZE_V1 : version === 2 ? SIZE_V2 : SIZE;
    if (b.length !== size || b.readUInt32LE(0) !== MAGIC || version < 1 || version > VERSION) return null;
    if (crc32(b.subarray(0, size - 4)) !== b.readUInt32LE(size - 4)) return null;
    const hw = this.parse(b, version);
    const rotten = (why: Record<string, unknown>) =>
      this.log(
        'warn',
        { file: this.file, ...why },
        'the high-water mark holds impossible numbers: those say nothing',
      );
    if (!Number.isSafeInteger(hw.epoch) || hw.epoch < 1) {
      rotten({ epoch: hw.epoch });
      return null;
    }
    const bad = impossible(hw);
    if (bad.length > 0) rotten({ streams: bad.map((s) => [s, hw.seqs.get(s), hw.floors?.get(s)]) });
    // A stream without an entry says nothing, as in a mark from before its first batch (a loss there goes unseen).
    for (const s of bad) for (const m of [hw.seqs, hw.hashes, hw.floors]) m?.delete(s);
    return hw;
  }

  private parse(b: Buffer, version: number): HighWater {
    const seqs = new Map<Stream, number>();
    for (const [i, s] of STREAMS.entries()) seqs.set(s, b.readDoubleLE(16 + 8 * i));
    if (version === 1) return { epoch: b.readDoubleLE(8), seqs };
    const hashes = new Map<Stream, Uint8Array>();
    for (const [i, s] of STREAMS.entries())
      hashes.set(s, new Uint8Array(b.subarray(HASHES_AT + 32 * i, HASHES_AT + 32 * i + 32)));
    if (version === 2) return { epoch: b.readDoubleLE(8), seqs, hashes };
    const floors = new Map<Stream, number>();
    for (const [i, s] of STREAMS.entries()) floors.set(s, b.readDoubleLE(FLOORS_AT + 8 * i));
    return { epoch: b.readDoubleLE(8), seqs, hashes, floors };
  }

  /**
   * Writes the heads `batches` will give once committed and starts syncing
   * them; undefined when there are none. Never rejects: a mark that cannot be
   * written is logged and the commit goes on (a stale mark can miss a later
   * loss, never invent one).
   */
  ahead(
    epoch: number,
    heads: ReadonlyMap<Stream, Head>,
    floors: Floors,
    batches: readonly { stream: Stream; seq: number; payloadHash: Uint8Array }[],
  ): Promise<void> | undefined {
    if (batches.length === 0) return undefined;
    const next = new Map(heads);
    for (const b of batches) next.set(b.stream, { seq: b.seq, prevHash: b.payloadHash });
    const failed = (e: unknown) => this.log('warn', { err: String(e) }, 'cannot update the high-water mark');
    try {
      this.put(epoch, (s) => next.get(s) ?? NONE, floors);
    } catch (e) {
      failed(e);
      return Promise.resolve();
    }
    return this.sync().catch(failed);
  }

  /**
   * After a commit that failed: the committed heads again, synced, before the
   * group is answered (so before anything is sealed on those seqs again).
   */
  back(epoch: number, heads: ReadonlyMap<Stream, Head>, floors: Floors): void {
    try {
      this.write(epoch, (s) => heads.get(s) ?? NONE, floors);
    } catch (e) {
      // Left ahead, it claims only seqs above the heads: a crash before the next commit reports them, never hides one.
      this.log(
        'warn',
        { err: String(e) },
        'cannot put the high-water mark back: a crash before the next commit reports the refused batches as lost',
      );
    }
  }

  /**
   * Batches sealed up to the mark of `epoch` but above `heads`: committed and
   * then lost (the WAL lost its tail), or sealed for a commit that a crash cut
   * short (the mark goes before the commit; those were never answered as
   * accepted). Nothing tells the two apart here, so each range is logged and
   * returned with the head the chain resumes from.
   */
  losses(epoch: number, heads: ReadonlyMap<Stream, Head>): { range: EvictionRange; head: Head }[] {
    const hw = this.read();
    if (!hw || hw.epoch !== epoch) return [];
    return lostRanges(hw, (s) => heads.get(s)?.seq ?? 0).map((range) => {
      this.log(
        'error',
        { range },
        'batches sealed up to the high-water mark are missing (lost from a damaged WAL, or never committed: the agent stopped during their commit): reported as lost',
      );
      // The chain resumes from the last batch sealed (a v2 mark keeps its hash), not the last one kept: a
      // collector that stored the lost batches sees the next one follow them. One never committed was never
      // sent, and the collector checks a prev_hash only against a neighbour it stored.
      const prevHash = hw.hashes?.get(range.stream) ?? heads.get(range.stream)?.prevHash ?? NONE.prevHash;
      return { range, head: { seq: range.toSeq, prevHash } };
    });
  }

  /**
   * What the file held unsent by this mark (above each floor, up to each seq, in its epoch): for a
   * file found corrupt at open, before anything of it was loaded. None from a mark without floors (v1,
   * v2) or no mark: then only `buffer.quarantined` tells of the loss.
   */
  unsent(): WantedRange[] {
    const hw = this.read();
    if (!hw?.floors) return [];
    return STREAMS.flatMap((stream) => {
      const seq = hw.seqs.get(stream) ?? 0;
      const floor = hw.floors?.get(stream) ?? 0;
      return seq > floor ? [{ stream, epoch: hw.epoch, fromSeq: floor + 1, toSeq: seq }] : [];
    });
  }

  /** Records the heads (seq and payload hash per stream) durably, before returning. */
  write(epoch: number, head: (stream: Stream) => Head, floors: Floors): void {
    this.put(epoch, head, floors);
    fdatasyncSync(this.fd!);
  }

  /**
   * After a group that only deleted (acks, retention): the committed heads with the new floors, not
   * synced. Floors only rise, so a mark that loses this write keeps lower ones: a salvage after a
   * corruption at open then looks for (and may report) rows that were acked, never misses an unsent one.
   */
  floorsMoved(epoch: number, heads: ReadonlyMap<Stream, Head>, floors: Floors): void {
    try {
      this.put(epoch, (s) => heads.get(s) ?? NONE, floors);
    } catch (e) {
      this.log('warn', { err: String(e) }, 'cannot update the high-water mark');
    }
  }

  /**
   * Writes the heads a group will have once committed (not synced: `sync` does,
   * on the thread pool, while the commit syncs on this thread).
   */
  put(epoch: number, head: (stream: Stream) => Head, floors: Floors): void {
    const b = Buffer.alloc(SIZE);
    b.writeUInt32LE(MAGIC, 0);
    b.writeUInt32LE(VERSION, 4);
    b.writeDoubleLE(epoch, 8);
    for (const [i, s] of STREAMS.entries()) {
      const h = head(s);
      b.writeDoubleLE(h.seq, 16 + 8 * i);
      b.set(h.prevHash.subarray(0, 32), HASHES_AT + 32 * i);
      b.writeDoubleLE(Math.min(floors.get(s) ?? 0, h.seq), FLOORS_AT + 8 * i);
    }
    b.writeUInt32LE(crc32(b.subarray(0, SIZE - 4)), SIZE - 4);
    // Never through a symlink (it would overwrite whatever it points at), and not truncated at open:
    // a crash between an emptying open and the first write would leave no mark at all.
    const opened = this.fd === undefined;
    this.fd ??= openSync(this.file, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    // One write well inside a sector at offset 0: it lands whole or not at all on the storage we target.
    writeSync(this.fd, b, 0, SIZE, 0);
    // Once per open (cuts a mark of another size): later writes keep the size, and a
    // truncate each time also dirties the inode for nothing.
    if (opened) ftruncateSync(this.fd, SIZE);
  }

  /** Syncs what `put` wrote, on libuv's thread pool. The caller keeps one sync in flight (and closes after it). */
  sync(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Streams whose seq or floor this agent cannot have written: not an integer in 0..MAX_SEQ, or a floor above the seq. */
function impossible(hw: HighWater): Stream[] {
  return STREAMS.filter((s) => {
    const seq = hw.seqs.get(s) ?? 0;
    const floor = hw.floors?.get(s) ?? 0;
    return !isSeq(seq) || !isSeq(floor) || floor > seq;
  });
}

/**
 * The ranges sealed up to the mark but above the database's heads: committed
 * and then lost, or sealed for a commit that a crash or a power cut cut short
 * (never answered as accepted). Nothing here tells the two apart.
 */
export function lostRanges(hw: HighWater, head: (stream: Stream) => number): EvictionRange[] {
  return STREAMS.flatMap((stream) => {
    const seq = head(stream);
    const mark = hw.seqs.get(stream) ?? 0;
    return mark > seq
      ? [{ stream, fromSeq: seq + 1, toSeq: mark, rows: mark - seq, items: 0, reason: 'lost' as const }]
      : [];
  });
}
