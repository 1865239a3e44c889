// PostgreSQL hanging under a running collector (#15): test/helpers/pg-away.ts says what is checked.
// The cut case is pg-away.test.ts, a file of its own so that the two run side by side.
import { describe, it } from 'node:test';
import { awayAndBack } from '../../helpers/pg-away.js';

describe('PostgreSQL goes away under a running collector', () => {
  it('connected but silent: transactions time out, nothing acked, locks freed; once it answers every batch stored once', () =>
    awayAndBack('stall'));
});
