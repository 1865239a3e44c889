import { AgentError } from '../core/errors.js';

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

/** A provisioned TLS key and certificate that do not make a valid pair for this device: nothing is created. */
export class ProvisionedPairError extends AgentError {
  constructor(key: string, cert: string, why: string) {
    super(
      'PROVISIONED_PAIR_INVALID',
      `${cert} with ${key} cannot be kept: ${why} (fix the provisioned files, or pass --force to make a new key and CSR)`,
    );
  }
}

/** The client certificate is missing or cannot be parsed: expiry is not watched until it is fixed. */
export class CertUnreadableError extends AgentError {
  constructor(file: string, problem: string) {
    super('CERT_UNREADABLE', `${file}: ${problem}; certificate expiry is not watched until it is fixed`);
  }
}
