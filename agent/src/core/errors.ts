/**
 * Base of every named error in the agent. `code` is stable and machine-readable;
 * boundaries (CLI, sockets, the daemon's loops) catch these and log them under `err`.
 */
export class AgentError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem in an external input, tied to the field (or line) it concerns. */
export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `mqtt.url` or `line 3: value`. */
  path: string;
  /** What is wrong, in words a technician can act on. */
  message: string;
}

/** An external input (config, document, ingest line) failed validation. */
export class ValidationError extends AgentError {
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[], what = 'input') {
    super('VALIDATION', `${what} is invalid:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
    this.issues = issues;
  }
}

/** Exit codes shared by every command (DESIGN.md). */
export const ExitCode = {
  /** Done and all good. */
  Ok: 0,
  /** Done, with findings. */
  Findings: 1,
  /** Could not do the job (bad usage, invalid config, failures). */
  Failed: 2,
} as const;

/** Narrow an unknown thrown value to an Error for logging. */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** True when `e` is an AgentError with the given code. */
export function hasCode(e: unknown, code: string): e is AgentError {
  return e instanceof AgentError && e.code === code;
}
