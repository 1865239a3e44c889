import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsyncDir, readJsonState, writeFileAtomic, writeJsonState } from '../config/index.js';

/**
 * The file operations a swap is made of. Injected so a test can stop the swap
 * after any one of them (a crash) and check what a restart makes of the files.
 */
export interface PairFs {
  exists(path: string): boolean;
  read(path: string): string;
  /** Durable: the data reaches the disk before the name does. */
  write(path: string, data: string, mode: number): void;
  writeJson(path: string, value: unknown): void;
  readJson<T>(path: string): T | null;
  /** Durable rename (the folder is synced). */
  rename(from: string, to: string): void;
  remove(path: string): void;
}

export const realPairFs: PairFs = {
  exists: (p) => existsSync(p),
  read: (p) => readFileSync(p, 'utf8'),
  write: (p, d, mode) => writeFileAtomic(p, d, mode),
  writeJson: (p, v) => writeJsonState(p, v),
  readJson: <T>(p: string) => readJsonState<T>(p),
  rename: (from, to) => {
    renameSync(from, to);
    fsyncDir(dirname(to));
  },
  remove: (p) => rmSync(p, { force: true }),
};

/** The journal: its presence is the commit point of a swap (or of its undoing). */
export interface SwapJournal {
  phase: 'forward' | 'back';
  serial: string;
}

export type Recovery = 'none' | 'rolled-forward' | 'rolled-back' | 'staged-dropped';

/**
 * The TLS key and certificate are swapped as ONE unit, though they are two
 * files at the paths the configuration names (the city PKI and every tool read
 * them there). Node has no rename-exchange, so the unit is made by a journal:
 *
 * 1. copies of the current pair go to `.prev`, the new chain to `cert.next`
 *    (the new key already waits at `key.next`);
 * 2. the journal is written (one atomic rename): from here the swap happens;
 * 3. `cert.next` and `key.next` are renamed over the pair.
 *
 * A crash before 2 leaves the old pair, whole; after 2, `recover()` at start
 * finishes the renames (each is idempotent: a `.next` that is gone was moved).
 * The journal and `.prev` stay until the new pair opens a session; `rollBack()`
 * is journalled the same way. Without a journal any `.prev`/`cert.next` is debris.
 */
export class PairSwap {
  constructor(
    private readonly certFile: string,
    private readonly keyFile: string,
    private readonly journalFile: string,
    private readonly fs: PairFs = realPairFs,
  ) {}

  get nextKey(): string {
    return `${this.keyFile}.next`;
  }

  private get nextCert(): string {
    return `${this.certFile}.next`;
  }

  /** A swap is committed and its pair has not yet opened a session. */
  get pending(): boolean {
    return this.fs.exists(this.journalFile);
  }

  swap(chainPem: string, serial: string): void {
    this.fs.write(`${this.certFile}.prev`, this.fs.read(this.certFile), 0o644);
    this.fs.write(`${this.keyFile}.prev`, this.fs.read(this.keyFile), 0o600);
    this.fs.write(this.nextCert, chainPem, 0o644);
    this.fs.writeJson(this.journalFile, { phase: 'forward', serial } satisfies SwapJournal);
    this.forward();
  }

  /** The new pair opened a session: the old one goes (journal first, so leftovers are debris). */
  commit(): void {
    this.fs.remove(this.journalFile);
    this.clean();
  }

  /** Puts the previous pair back (the new one was refused). False when there is nothing to undo. */
  rollBack(): boolean {
    const j = this.fs.readJson<SwapJournal>(this.journalFile);
    if (!j) return false;
    this.fs.writeJson(this.journalFile, { ...j, phase: 'back' } satisfies SwapJournal);
    this.back();
    return true;
  }

  /** Run at start, before the pair is used: completes whatever a crash interrupted. */
  recover(): Recovery {
    const j = this.fs.readJson<SwapJournal>(this.journalFile);
    if (!j) {
      const debris = this.fs.exists(this.nextCert);
      this.fs.remove(this.nextCert);
      this.clean();
      return debris ? 'staged-dropped' : 'none';
    }
    if (j.phase === 'back') {
      this.back();
      return 'rolled-back';
    }
    this.forward();
    // Belt and braces: a pair that does not match (a file edited by hand mid-swap) is not kept.
    if (this.matches(j.serial)) return 'rolled-forward';
    this.fs.writeJson(this.journalFile, { ...j, phase: 'back' } satisfies SwapJournal);
    this.back();
    return 'rolled-back';
  }

  private forward(): void {
    if (this.fs.exists(this.nextCert)) this.fs.rename(this.nextCert, this.certFile);
    if (this.fs.exists(this.nextKey)) this.fs.rename(this.nextKey, this.keyFile);
  }

  private back(): void {
    for (const f of [this.certFile, this.keyFile])
      if (this.fs.exists(`${f}.prev`)) this.fs.rename(`${f}.prev`, f);
    this.fs.remove(this.nextCert);
    this.fs.remove(this.journalFile);
  }

  private clean(): void {
    this.fs.remove(`${this.certFile}.prev`);
    this.fs.remove(`${this.keyFile}.prev`);
  }

  private matches(serial: string): boolean {
    try {
      const cert = new X509Certificate(this.fs.read(this.certFile));
      return (
        cert.serialNumber === serial && cert.checkPrivateKey(createPrivateKey(this.fs.read(this.keyFile)))
      );
    } catch {
      return false;
    }
  }
}
