import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compareDebVersions, parseDebVersion } from '../../../agent/src/software/index.js';
import { dpkgCompare } from '../../helpers/software.js';

/** Versions dpkg accepts, from a small alphabet so that ties, tildes, leading zeros and letters collide often. */
const piece = fc.constantFrom(
  '0',
  '1',
  '2',
  '9',
  '10',
  '01',
  '00',
  'a',
  'b',
  'z',
  'A',
  'p',
  'rc',
  '.',
  '+',
  '~',
  '~~',
);
const upstream = fc
  .tuple(fc.constantFrom('0', '1', '2', '10', '1.0', '2.36', '9.2'), fc.array(piece, { maxLength: 5 }))
  .map(([d, rest]) => d + rest.join(''));
const revision = fc.array(fc.constantFrom('0', '1', '2', '10', 'a', '.', '+', '~', 'deb12u', 'b'), {
  minLength: 1,
  maxLength: 4,
});
const debVersion = fc
  .tuple(
    fc.option(fc.constantFrom('0', '1', '2', '10'), { nil: undefined }),
    upstream,
    fc.option(revision, { nil: undefined }),
  )
  .map(([e, u, r]) => `${e !== undefined ? `${e}:` : ''}${r ? `${u}-${r.join('')}` : u}`);

describe('Debian version order (dpkg rules)', () => {
  it('orders the classic cases as dpkg documents them', () => {
    const lt: [string, string][] = [
      ['1.0~rc1', '1.0'],
      ['1.0~~', '1.0~'],
      ['1.0~', '1.0'],
      ['1.0', '1.0a'],
      ['1.0a', '1.0+'],
      ['1.0', '1.0.1'],
      ['1.9', '1.10'],
      ['2.36-9+deb12u1', '2.36-9+deb12u3'],
      ['3.0.11-1~deb12u1', '3.0.11-1~deb12u2'],
      ['3.0.11-1~deb12u2', '3.0.11-1'],
      ['5.2~rc2-1', '5.2.15-2'],
      ['9.3p1-1', '1:9.2p1-2'],
      ['1:9.2p1-2+deb12u2', '1:9.2p1-2+deb12u3'],
      ['1.0-1', '1.0-1.1'],
      ['1.0-1~bpo1', '1.0-1'],
    ];
    for (const [a, b] of lt) {
      assert.equal(compareDebVersions(a, b), -1, `${a} < ${b}`);
      assert.equal(compareDebVersions(b, a), 1, `${b} > ${a}`);
    }
    for (const [a, b] of [
      ['1.01', '1.1'],
      ['0:1.0', '1.0'],
      ['1.0', '1.0-0'],
      ['1.0-00', '1.0-0'],
    ])
      assert.equal(compareDebVersions(a, b), 0, `${a} = ${b}`);
  });

  it('agrees with dpkg --compare-versions on 1200 generated pairs', () => {
    const pairs = fc.sample(fc.tuple(debVersion, debVersion), { numRuns: 1000, seed: 17 });
    // Equal pairs are rare in random samples: add each version against itself and a leading-zero twin.
    for (const [a] of pairs.slice(0, 100)) pairs.push([a, a], [a, a.replace(/(\d+)/, '0$1')]);
    const want = dpkgCompare(pairs);
    for (const v of [-1, 0, 1])
      assert.ok(want.filter((w) => w === v).length >= 50, `too few pairs where dpkg says ${v}`);
    const wrong = pairs.filter(([a, b], i) => compareDebVersions(a, b) !== want[i]);
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${pairs.length} pairs disagree with dpkg`);
  });

  it('refuses what dpkg would not parse, naming the problem', () => {
    for (const bad of ['', 'a1.0', '1:', ':1.0', 'x:1.0', '1.0-', '1.0 1', '1.0-a_b', '1.0_1']) {
      assert.throws(
        () => parseDebVersion(bad),
        (e: Error & { code?: string }) => e.code === 'BAD_VERSION' && e.message.length > 0,
        JSON.stringify(bad),
      );
    }
    assert.deepEqual(parseDebVersion('1:2.38.1-5+deb12u3'), {
      epoch: 1,
      upstream: '2.38.1',
      revision: '5+deb12u3',
    });
  });
});
