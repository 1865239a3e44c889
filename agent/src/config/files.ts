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
import { AgentError } from '../core/index.js';

/** A private key file that group or others can read: refused, with the fix. */
export class KeyPermissionError extends AgentError {
  readonly file: string;
  constructor(file: string, mode: number) {
    super(
      'KEY_PERMISSIONS',
      `${file} is readable by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); fix: chmod 600 ${file}`,
    );
    this.file = file;
  }
}

/** A key, certificate or state file is missing or unreadable. */
export class FileReadError extends AgentError {
  constructor(file: string, why: string, options?: { cause?: unknown }) {
    super('FILE_UNREADABLE', `${file}: ${why}`, options);
  }
}

/** Reads a private key file, refusing one that group or others can read. */
export function readSecretFile(file: string): string {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileReadError(
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
    throw new FileReadError(
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

/** Writes a small JSON state file (0600 folder default) atomically. */
export function writeJsonState(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, 0o644);
}

/** Reads a JSON state file; null when absent or unreadable. */
export function readJsonState<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}
