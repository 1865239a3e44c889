import { AgentError } from '../core/errors.js';

/** A software inventory or feed input that cannot be used; `code` names the kind of problem. */
export class SoftwareError extends AgentError {}

/** The dpkg status database is present but cannot be trusted (never reported as a pass). */
export class DpkgStatusError extends SoftwareError {
  /** 1-based line of the problem, when there is one. */
  readonly line: number | undefined;
  constructor(message: string, line?: number) {
    super('DPKG_STATUS_CORRUPT', line === undefined ? message : `line ${line}: ${message}`);
    this.line = line;
  }
}

/** A vulnerability feed refused: bad signature, older version, wrong type, malformed record. */
export class FeedError extends SoftwareError {
  /** The feed's version, once it was verified far enough to be read. */
  readonly version: number | undefined;
  constructor(code: string, message: string, version?: number) {
    super(code, message);
    this.version = version;
  }
}
