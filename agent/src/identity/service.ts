import type { Service } from '../core/index.js';
import { loadSigningKey, type SigningIdentity } from './signing-key.js';

/** Holds the device's signing key for the daemon; loading (and the 0600 check) happens in start(). */
export class DeviceIdentity implements Service {
  readonly name = 'identity';
  private id: SigningIdentity | undefined;

  constructor(
    readonly deviceId: string,
    private readonly signingKeyPath: string,
  ) {}

  async start(): Promise<void> {
    this.id = loadSigningKey(this.signingKeyPath);
  }

  async stop(): Promise<void> {
    this.id = undefined;
  }

  get current(): SigningIdentity {
    if (!this.id) throw new Error('identity not started');
    return this.id;
  }
}
