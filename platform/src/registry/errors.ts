export type RegistryErrorCode = 'BAD_REGISTRY' | 'BAD_COLLECTOR_KEY' | 'BAD_KEYS_DOCUMENT';

/** A registry file, collector key or keys document that cannot be used, naming the field and why. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
  ) {
    super(message);
  }
}
