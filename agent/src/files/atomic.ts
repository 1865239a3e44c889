import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Temp files of writeFileAtomic end so; `wipe` removes stale ones left by a crash. */
export const TEMP_SUFFIX = '.tmp';

/**
 * Writes a file atomically: a fresh temp file created exclusively (O_EXCL, so
 * nothing planted at its name is followed) with the final mode from the start,
 * fsync, rename, fsync the folder. A crash leaves the old or the new file.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode: number): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, file);
  fsyncDir(dir);
}

/**
 * Makes a rename in `dir` durable. A filesystem that cannot sync a folder
 * (EINVAL, ENOTSUP) is not an error anyone could act on: the rename is atomic
 * all the same, only its durability is the filesystem's.
 */
export function fsyncDir(dir: string): void {
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP') throw e;
  } finally {
    closeSync(dfd);
  }
}
