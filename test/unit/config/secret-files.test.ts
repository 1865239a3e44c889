import assert from 'node:assert/strict';
import fs, { readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { describe, it, mock } from 'node:test';
import { readSecretFile, writeFileAtomic } from '../../../agent/src/config/index.js';
import { tempDir } from '../../helpers/paths.js';

describe('secret files', () => {
  it('readSecretFile judges the file it reads: a swap after the mode check cannot slip in an open file', () => {
    const t = tempDir();
    try {
      const key = join(t.dir, 'tls.key');
      writeFileSync(key, 'GOOD KEY', { mode: 0o600 });
      const evil = join(t.dir, 'evil');
      writeFileSync(evil, 'ATTACKER KEY', { mode: 0o644 });
      // The attacker wins every race: right after the mode is looked at, the path points elsewhere.
      const swapAfter = (name: 'statSync' | 'fstatSync') => {
        const real = fs[name] as (...a: unknown[]) => fs.Stats;
        return mock.method(fs, name, (...a: unknown[]) => {
          const st = real(...a);
          mock.restoreAll();
          syncBuiltinESMExports();
          renameSync(evil, key);
          return st;
        });
      };
      swapAfter('statSync');
      swapAfter('fstatSync');
      syncBuiltinESMExports();
      let got: string | Error;
      try {
        got = readSecretFile(key);
      } catch (e) {
        got = e as Error;
      } finally {
        mock.restoreAll();
        syncBuiltinESMExports();
      }
      assert.equal(got, 'GOOD KEY', 'the content of the file whose mode was checked');
      assert.equal(readFileSync(key, 'utf8'), 'ATTACKER KEY', 'the swap did happen');
      assert.throws(() => readSecretFile(key), /readable by group or others \(mode 0644\)/);
    } finally {
      mock.restoreAll();
      syncBuiltinESMExports();
      t.cleanup();
    }
  });

  it('writeFileAtomic creates its temp file exclusively with the final mode and follows nothing planted', () => {
    const t = tempDir();
    try {
      const target = join(t.dir, 'signing.key');
      const victim = join(t.dir, 'victim');
      writeFileSync(victim, 'untouched');
      // The temp name of the old code: a symlink planted there must never be written through.
      symlinkSync(victim, join(t.dir, `.signing.key.${process.pid}.tmp`));
      const modes: number[] = [];
      const flags: number[] = [];
      const realOpen = fs.openSync;
      mock.method(fs, 'openSync', (p: fs.PathLike, f: fs.OpenMode, m?: fs.Mode) => {
        if (String(p).endsWith('.tmp')) {
          flags.push(Number(f));
          modes.push(Number(m));
        }
        return realOpen(p, f, m);
      });
      syncBuiltinESMExports();
      try {
        writeFileAtomic(target, '-----BEGIN PRIVATE KEY-----', 0o600);
      } finally {
        mock.restoreAll();
        syncBuiltinESMExports();
      }
      assert.equal(readFileSync(victim, 'utf8'), 'untouched');
      assert.equal(statSync(target).mode & 0o777, 0o600);
      assert.deepEqual(modes, [0o600], 'the mode is given at creation');
      assert.ok((flags[0]! & fs.constants.O_EXCL) !== 0, 'created with O_EXCL');
      assert.ok((flags[0]! & fs.constants.O_CREAT) !== 0);
      const left = readdirSync(t.dir).filter((f) => f.endsWith('.tmp') && !f.includes(String(process.pid)));
      assert.deepEqual(left, [], 'no temp file left behind');
    } finally {
      t.cleanup();
    }
  });
});
