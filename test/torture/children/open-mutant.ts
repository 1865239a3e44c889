// Child of the R7 row: opens each mutated data dir the way the agent does (outbox, trust state)
// and prints one JSON line per mutant, so a native crash or a hang names the mutant that caused it.

import { createPrivateKey } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Outbox } from '../../../agent/src/buffer/index.js';
import {
  ClockQuality,
  ManualClock,
  type Sealer,
  Stream,
  silentLogger,
  systemRandom,
} from '../../../agent/src/core/index.js';
import { KeyRing, keyIdOf, rawPublicKey, seal, verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { TrustStore } from '../../../agent/src/trust/index.js';

const [listFile, keyFile, rootB64] = process.argv.slice(2);
const dirs = JSON.parse(readFileSync(listFile, 'utf8')) as string[];
const key = createPrivateKey(readFileSync(keyFile));
const keyId = keyIdOf(rawPublicKey(key));
const ring = new KeyRing();
ring.add('gw-r7', rawPublicKey(key));
const sealer: Sealer = (stream, items, head) =>
  seal(
    { deviceId: 'gw-r7', signingKey: key, keyId, nowMs: 1_764_150_000_000, clock: ClockQuality.SYNCED },
    stream,
    items,
    head,
  );

for (const dir of dirs) {
  const out: Record<string, unknown> = { dir };
  try {
    const ob = new Outbox({
      file: join(dir, 'outbox.db'),
      maxBytes: 1 << 30,
      minFreeBytes: 0,
      sealer,
      clock: new ManualClock(),
      random: systemRandom,
      log: silentLogger(),
    });
    await ob.start();
    out.quarantined = readdirSync(dir).some((f) => f.includes('.quarantined-'));
    const values: number[] = [];
    let bad = 0;
    let notices = 0;
    const lost: [number, number][] = [];
    for (const row of ob.peek(1_000_000)) {
      try {
        const b = verifyEnvelope(row.envelope, ring).batch;
        for (const rd of b.readings) values.push(rd.value.value as number);
        if (row.stream === Stream.EVENTS)
          for (const e of b.events) {
            if (e.type === 'buffer.quarantined') notices++;
            if (e.type === 'buffer.evicted' && ['lost', 'corrupt'].includes(e.details.reason))
              lost.push([Number(e.details.from_seq), Number(e.details.to_seq)]);
          }
      } catch {
        bad++;
      }
    }
    out.values = values;
    out.badRows = bad;
    out.notices = notices;
    out.lost = lost;
    await ob.stop();
  } catch (e) {
    out.crash = `outbox: ${(e as Error).stack ?? e}`;
  }
  try {
    if (existsSync(join(dir, 'trust.json'))) {
      const t = new TrustStore(dir, rootB64);
      t.load();
      out.trustRoles = ['config', 'profiles', 'collector'].map((r) => t.keysOf(r as 'config').size);
      t.highestSeen('config');
    }
  } catch (e) {
    out.crash = `${out.crash ?? ''} trust.json: ${(e as Error).stack ?? e}`;
  }
  writeSync(1, `${JSON.stringify(out)}\n`);
}
