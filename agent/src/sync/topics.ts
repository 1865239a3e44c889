import { type Stream, streamName } from '../core/index.js';

/** Topic names of one device (DESIGN.md): `{prefix}/{deviceId}/...`. */
export class Topics {
  constructor(
    readonly prefix: string,
    readonly deviceId: string,
  ) {}

  private t(s: string): string {
    return `${this.prefix}/${this.deviceId}/${s}`;
  }

  stream(s: Stream): string {
    return this.t(streamName(s));
  }

  get status(): string {
    return this.t('status');
  }

  get ack(): string {
    return this.t('ack');
  }

  /** Retained, down: the newest root-signed `keys` document (DESIGN.md Topics). */
  get keys(): string {
    return this.t('keys');
  }

  get config(): string {
    return this.t('config');
  }

  get configStatus(): string {
    return this.t('config/status');
  }
}
