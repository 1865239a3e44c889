// PostgreSQL cut under a running collector (#15): test/helpers/pg-away.ts says what is checked.
// The stall case is pg-stall.test.ts, a file of its own so that the two run side by side.
import { describe, it } from 'node:test';
import { awayAndBack } from '../../helpers/pg-away.js';

describe('PostgreSQL goes away under a running collector', () => {
  it('cut and refused: no ack without a commit while it is away; once back every batch stored once, outboxes empty', () =>
    awayAndBack('cut'));
});
