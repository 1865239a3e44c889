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

/** Identity files already exist and `--force` was not given. */
export class IdentityExistsError extends AgentError {
  constructor(files: string[]) {
    super('IDENTITY_EXISTS', `identity already exists (${files.join(', ')}); pass --force to replace it`);
  }
}

/** A key or certificate file is missing or unreadable. */
export class IdentityFileError extends AgentError {
  constructor(file: string, why: string, options?: { cause?: unknown }) {
    super('IDENTITY_FILE', `${file}: ${why}`, options);
  }
}
