import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import Database from 'better-sqlite3';
import { Stream } from '../../agent/src/core/index.js';
import { KeyRing, rawPublicKey, verifyEnvelope, ZERO_HASH } from '../../agent/src/telemetry/index.js';
import { distTest, tempDir } from '../helpers/paths.js';

const KILLS = 30;

/** Runs the appending child until a random moment, then SIGKILLs it; returns the last counter it saw accepted. */
function runAndKill(dir: string, keyFile: string, start: number, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [join(distTest, 'fixtures/children/append-loop.js'), dir, keyFile, String(start)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let last = start - 1;
    let buf = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) last = Number(l.split(' ')[1]);
      // Start the countdown once the child is really appending.
      timer ??= setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve(last);
      else reject(new Error(`child exited by itself: code ${code}`));
    });
  });
}

it(`loses nothing accepted and never reuses or skips a seq across ${KILLS} SIGKILLs`, async () => {
  const t = tempDir();
  try {
    const { privateKey } = generateKeyPairSync('ed25519');
    const keyFile = join(t.dir, 'signing.key');
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const ring = new KeyRing();
    ring.add('gw-crash', rawPublicKey(privateKey));
    let next = 0;
    let kills = 0;
    for (let round = 0; round < KILLS; round++) {
      const acceptedUpTo = await runAndKill(t.dir, keyFile, next, 5 + Math.floor(Math.random() * 120));
      kills++;
      const db = new Database(join(t.dir, 'outbox.db'));
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
        const rows = db
          .prepare<[number], { seq: number; envelope: Buffer }>(
            'SELECT seq, envelope FROM outbox WHERE stream = ? ORDER BY seq',
          )
          .all(Stream.TELEMETRY);
        const head = db.prepare<[], { seq: number }>('SELECT seq FROM chain WHERE stream = 1').get();
        assert.equal(head?.seq ?? 0, rows.length, 'the chain head matches the last committed row');
        let prev = ZERO_HASH;
        const seen = new Map<number, number>();
        rows.forEach((r, i) => {
          assert.equal(r.seq, i + 1, 'seqs are contiguous from 1');
          const v = verifyEnvelope(r.envelope, ring);
          assert.deepEqual(Buffer.from(v.batch.prevHash), Buffer.from(prev), `prev_hash of seq ${r.seq}`);
          prev = v.payloadHash;
          for (const rd of v.batch.readings)
            seen.set(rd.value.value as number, (seen.get(rd.value.value as number) ?? 0) + 1);
        });
        for (let n = 0; n <= acceptedUpTo; n++)
          assert.equal(seen.get(n), 1, `reading ${n} present exactly once (round ${round})`);
        for (const [n, c] of seen) assert.equal(c, 1, `reading ${n} stored ${c} times`);
        next = seen.size === 0 ? 0 : Math.max(...seen.keys()) + 1;
        assert.ok(next > acceptedUpTo);
      } finally {
        db.close();
      }
    }
    assert.equal(kills, KILLS);
    assert.ok(next > 100, `the children accepted ${next} readings in all`);
  } finally {
    t.cleanup();
  }
});
