import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { verifyEd25519 } from '../../../agent/src/telemetry/index.js';
import { vectorsDir } from '../../helpers/paths.js';

interface Vectors {
  testGroups: {
    publicKey: { pk: string };
    tests: { tcId: number; msg: string; sig: string; result: string }[];
  }[];
}

it('verifyEd25519 agrees with all 151 Wycheproof Ed25519 vectors', () => {
  const v = JSON.parse(readFileSync(join(vectorsDir, 'wycheproof-ed25519_test.json'), 'utf8')) as Vectors;
  let count = 0;
  const disagreements: number[] = [];
  for (const g of v.testGroups) {
    const pk = Buffer.from(g.publicKey.pk, 'hex');
    for (const t of g.tests) {
      count++;
      const ok = verifyEd25519(pk, Buffer.from(t.msg, 'hex'), Buffer.from(t.sig, 'hex'));
      if (ok !== (t.result === 'valid')) disagreements.push(t.tcId);
    }
  }
  assert.equal(count, 151);
  assert.deepEqual(disagreements, []);
});
