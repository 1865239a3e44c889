import assert from 'node:assert/strict';
import { it } from 'node:test';
import { cryptMatches } from '../../../agent/src/audit/index.js';

const HASH =
  '$6$saltsalt$677q0O/U8ycKsbBfN68CgcyXcWEbi0J/eUf256PkkeGXfNX3CNnPlwFdNvdBgnSiHDx5X1Xozxf5lg9iVIVVu/';

it('the password check hashes off the event loop, and a run past its timeout says so instead of passing', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const pending = cryptMatches([
    { candidate: 'raspberry', hash: HASH },
    { candidate: 'admin', hash: HASH },
  ]);
  assert.ok(pending instanceof Promise, 'asynchronous');
  const matches = await pending;
  clearInterval(timer);
  assert.deepEqual(matches, [true, false]);
  assert.ok(ticks > 0, 'timers ran while perl hashed');
  // 20,000 SHA-512 hashes of 5,000 rounds take seconds: 50 ms is not enough.
  const many = Array.from({ length: 20_000 }, (_, i) => ({ candidate: `c${i}`, hash: HASH }));
  const late = await cryptMatches(many, 50);
  assert.ok(!Array.isArray(late));
  assert.match(late.error, /longer than 0.05 s/);
});
