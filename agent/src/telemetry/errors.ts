import { AgentError } from '../core/index.js';

/** Why an envelope was refused; the collector counts rejections by this code. */
export type VerifyFailure = 'TOO_LARGE' | 'TOO_DEEP' | 'BAD_ENCODING' | 'UNKNOWN_KEY' | 'BAD_SIGNATURE';

/** An envelope or batch that must not be trusted. */
export class VerifyError extends AgentError {
  declare readonly code: VerifyFailure;
  constructor(code: VerifyFailure, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
