import { AgentError } from '../core/index.js';

/** One item too large for any batch the collector accepts: refused at ingest, nothing queued. */
export class ItemTooLargeError extends AgentError {
  readonly field: string;
  constructor(field: string, bytes: number, max: number) {
    super(
      'ITEM_TOO_LARGE',
      `${field}: the item encodes to about ${bytes} bytes, more than the ${max} bytes a batch can carry to the collector`,
    );
    this.field = field;
  }
}
