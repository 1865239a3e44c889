import { AgentError } from '../core/index.js';

/** The filesystem is full (another process filled it): nothing was accepted, nothing accepted was lost. */
export class BufferFullError extends AgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BUFFER_DISK_FULL', message, options);
  }
}

/** The worker's queue is at its bound: the submit is refused, never buffered without bound. */
export class BufferBusyError extends AgentError {
  constructor(message: string) {
    super('BUFFER_BUSY', message);
  }
}

/** Any other storage failure of the outbox. */
export class BufferError extends AgentError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * Below this many free bytes an I/O error of a write is taken for a full disk: SQLite
 * reports ENOSPC as SQLITE_FULL on writes but as SQLITE_IOERR_* on fsync and WAL growth.
 */
export const DISK_FULL_SLACK_BYTES = 1024 * 1024;

/**
 * What a failed commit means: a full filesystem (nothing accepted, the agent waits for
 * space and stays healthy) or an I/O error of the medium (BUFFER_IO_ERROR: the watchdog
 * stops being fed, so systemd restarts the agent and the failing SD card shows).
 */
export function commitFailure(e: unknown, file: string, freeBytes: () => number): unknown {
  const code = (e as { code?: string }).code ?? '';
  if (code === 'SQLITE_FULL')
    return new BufferFullError(`the filesystem holding ${file} is full: nothing was accepted`, { cause: e });
  if (!code.startsWith('SQLITE_IOERR')) return e;
  let free = 0;
  try {
    free = freeBytes();
  } catch {
    // No figure: an I/O error with the free space unknown is still reported as one.
    free = Number.POSITIVE_INFINITY;
  }
  if (free < DISK_FULL_SLACK_BYTES)
    return new BufferFullError(`the filesystem holding ${file} is full: nothing was accepted`, { cause: e });
  return new BufferError('BUFFER_IO_ERROR', `writing ${file} failed (${code}): nothing was accepted`, {
    cause: e,
  });
}
