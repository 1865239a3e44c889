import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { AgentError } from '../core/errors.js';
import { fsyncDir, writeFileAtomic } from '../files/index.js';

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

/**
 * Reads a private key file, refusing one that group or others can read. The
 * file is opened once and the mode is read from that handle, so a swap between
 * the check and the read cannot slip another file in.
 */
export function readSecretFile(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileReadError(
      file,
      code === 'ENOENT' ? 'no such file (run `edge-agent identity init`)' : String(code),
      { cause: e },
    );
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new FileReadError(file, 'is not a regular file');
    if ((st.mode & 0o077) !== 0) throw new KeyPermissionError(file, st.mode);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
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

/** Writes a small JSON state file (0600 folder default) atomically. */
export function writeJsonState(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, 0o644);
}

/** Moves a bad state file (and a SQLite file's WAL and shared memory) aside for forensics; returns where. */
export function quarantineFile(file: string, stamp: number): string {
  const aside = `${file}.quarantined-${stamp}`;
  for (const suffix of ['', '-wal', '-shm'])
    if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
  fsyncDir(dirname(file));
  return aside;
}

/**
 * Reads a JSON state file the daemon owns: null when there is none. One that
 * cannot be read as JSON (or fails `valid`) is moved aside to
 * `<file>.quarantined-<stamp>` for a technician and handed to `onCorrupt` so the
 * loss is reported: never a silent reset.
 */
export function loadJsonState<T>(
  file: string,
  o: { stamp: number; valid?: (v: unknown) => boolean; onCorrupt: (aside: string, reason: string) => void },
): T | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let reason: string | null = null;
  let value: unknown;
  try {
    value = JSON.parse(text);
    if (o.valid && !o.valid(value)) reason = 'not the expected shape';
  } catch (e) {
    reason = `not JSON: ${(e as Error).message}`;
  }
  if (reason === null) return value as T;
  o.onCorrupt(quarantineFile(file, o.stamp), reason);
  return null;
}

/** Reads a JSON state file; null when absent or unreadable (read-only callers: status, doctor). */
export function readJsonState<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/**
 * Opens the log file for `createLogger` (core does no I/O). Opened here rather
 * than by pino, which opens asynchronously: a crash in the first tick must still be written.
 */
export function openLogFile(file: string): number {
  mkdirSync(dirname(file), { recursive: true });
  return openSync(file, 'a');
}
