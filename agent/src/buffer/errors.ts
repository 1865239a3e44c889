import { AgentError } from '../core/index.js';

/** The filesystem is full (another process filled it): nothing was accepted, nothing accepted was lost. */
export class BufferFullError extends AgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BUFFER_DISK_FULL', message, options);
  }
}

/** Any other storage failure of the outbox. */
export class BufferError extends AgentError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
