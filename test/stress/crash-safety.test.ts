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

/**
 * The telemetry seqs reported lost (`buffer.evicted`, reason `lost`): in sealed notices on the
 * events stream, or still owed in the notices table (a kill before the notice's batch committed).
 */
function reportedLost(db: Database.Database, ring: KeyRing): Set<number> {
  const events = db
    .prepare<[number], { envelope: Buffer }>('SELECT envelope FROM outbox WHERE stream = ?')
    .all(Stream.EVENTS)
    .flatMap((r) => verifyEnvelope(r.envelope, ring).batch.events);
  const owed = db
    .prepare<[], { item: string }>('SELECT item FROM notices')
    .all()
    .map((r) => (JSON.parse(r.item) as { event: { type: string; details: Record<string, string> } }).event);
  const out = new Set<number>();
  for (const e of [...events, ...owed])
    if (e.type === 'buffer.evicted' && e.details.stream === 'telemetry' && e.details.reason === 'lost')
      for (let s = Number(e.details.from_seq); s <= Number(e.details.to_seq); s++) out.add(s);
  return out;
}

// A kill during a commit may skip the seqs of the group it cut short (the high-water mark goes
// before the commit: docs/protocol.md, Durability); they are reported as lost, and they held
// nothing that was answered as accepted.
it(`loses nothing accepted and never reuses a seq, nor skips one without a notice, across ${KILLS} SIGKILLs`, async () => {
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
        const lost = reportedLost(db, ring);
        const head =
          db.prepare<[], { seq: number }>('SELECT seq FROM chain WHERE stream = 1').get()?.seq ?? 0;
        const last = rows.at(-1)?.seq ?? 0;
        assert.ok(head >= last, 'the chain head is at or past the last committed row');
        for (let s = last + 1; s <= head; s++)
          assert.ok(lost.has(s), `seq ${s} below the head is reported lost`);
        let prev = ZERO_HASH;
        let expected = 1;
        const seen = new Map<number, number>();
        for (const r of rows) {
          assert.ok(!lost.has(r.seq), `seq ${r.seq} is stored and reported lost`);
          const skipped = r.seq > expected;
          for (; expected < r.seq; expected++)
            assert.ok(lost.has(expected), `seq ${expected} skipped without a notice`);
          expected = r.seq + 1;
          const v = verifyEnvelope(r.envelope, ring);
          // After a skip the chain goes on from the last batch sealed, which never reached the file.
          if (!skipped)
            assert.deepEqual(Buffer.from(v.batch.prevHash), Buffer.from(prev), `prev_hash of seq ${r.seq}`);
          prev = v.payloadHash;
          for (const rd of v.batch.readings)
            seen.set(rd.value.value as number, (seen.get(rd.value.value as number) ?? 0) + 1);
        }
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
