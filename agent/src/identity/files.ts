import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { IdentityFileError, KeyPermissionError } from './errors.js';

/** Reads a private key file, refusing one that group or others can read. */
export function readSecretFile(file: string): string {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new IdentityFileError(
      file,
      code === 'ENOENT' ? 'no such file (run `edge-agent identity init`)' : String(code),
      { cause: e },
    );
  }
  if ((mode & 0o077) !== 0) throw new KeyPermissionError(file, mode);
  return readFileSync(file, 'utf8');
}

/** Reads a public file (certificate, CSR), with a named error when missing. */
export function readPublicFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new IdentityFileError(
      file,
      (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(e),
      { cause: e },
    );
  }
}

/**
 * Writes a file atomically: temp file with the final mode from the start,
 * fsync, rename, fsync the folder. A crash leaves the old or the new file.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode: number): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}
