import { randomBytes } from 'node:crypto';
import type { Random } from './clock.js';

/** Cryptographic randomness from the OS. */
export const systemRandom: Random = { bytes: (n) => new Uint8Array(randomBytes(n)) };

/** A random integer in [1, 2^53), as DESIGN.md requires for epochs. */
export function randomEpoch(random: Random): number {
  for (;;) {
    const b = random.bytes(7);
    // 53 bits: 5 bits of the first byte and 48 of the rest.
    let n = b[0] & 0x1f;
    for (let i = 1; i < 7; i++) n = n * 256 + b[i];
    if (n > 0) return n;
  }
}
