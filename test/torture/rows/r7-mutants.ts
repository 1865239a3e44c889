import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
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
import { keyIdOf, rawPublicKey, seal } from '../../../agent/src/telemetry/index.js';
import { TrustStore } from '../../../agent/src/trust/index.js';
import { distTest } from '../../helpers/paths.js';
import { docKey } from '../../helpers/trust.js';
import { addDefect, type Ctx, emptyResult, type Row, type RowResult } from '../lib.js';

const FULL_MUTANTS = 1000;
const QUICK_MUTANTS = 60;
/** Mutants one child opens before the next child takes over (a child costs a Node start-up). */
const PER_CHILD = 100;
/** A mutant that takes longer than this to open is a hang. */
const HANG_MS = 60_000;
const BATCHES = 60;
const PER_BATCH = 20;

interface Outcome {
  dir: string;
  crash?: string;
  quarantined?: boolean;
  values?: number[];
  badRows?: number;
  notices?: number;
  /** Telemetry seq ranges reported lost (`buffer.evicted`, reason `lost` or `corrupt`). */
  lost?: [number, number][];
}

/** A data dir with rows in the database file and in the WAL, and a trust state. */
async function pristine(ctx: Ctx, keyFile: string, sealer: Sealer): Promise<string> {
  const dir = join(ctx.dir, 'pristine');
  mkdirSync(dir, { recursive: true });
  const open = () =>
    new Outbox({
      file: join(dir, 'outbox.db'),
      maxBytes: 1 << 30,
      minFreeBytes: 0,
      sealer,
      clock: new ManualClock(),
      random: systemRandom,
      log: silentLogger(),
    });
  let n = 0;
  const fill = async (ob: Outbox, batches: number) => {
    for (let b = 0; b < batches; b++) {
      const items = Array.from({ length: PER_BATCH }, () => ({
        stream: Stream.TELEMETRY,
        reading: {
          sensorId: 'r7',
          tsMs: n,
          unit: '',
          value: { kind: 'number' as const, value: n++ },
          labels: {},
        },
      }));
      await ob.append([{ stream: Stream.TELEMETRY, items }]);
    }
  };
  const first = open();
  await first.start();
  await fill(first, BATCHES / 2);
  await first.stop(); // checkpointed into the database file
  const second = open();
  await second.start();
  await fill(second, BATCHES / 2); // these stay in the WAL
  for (const f of ['outbox.db', 'outbox.db-wal']) copyFileSync(join(dir, f), join(ctx.dir, `snap-${f}`));
  await second.stop();
  for (const f of ['outbox.db', 'outbox.db-wal']) copyFileSync(join(ctx.dir, `snap-${f}`), join(dir, f));
  const root = docKey();
  const t = new TrustStore(dir, root.b64);
  t.load();
  t.applyKeys({
    type: 'keys',
    version: 3,
    issuedAt: '2026-11-26T00:00:00Z',
    body: { roles: { config: { publicKeys: [docKey().b64] } } },
  });
  writeFileSync(join(ctx.dir, 'root.b64'), root.b64);
  void keyFile;
  return dir;
}

/** One seeded mutation of one file: bit flips, a random block, a zeroed page, a truncation. */
function mutate(ctx: Ctx, dir: string): string {
  const file = ctx.rng.pick([
    'outbox.db',
    'outbox.db',
    'outbox.db',
    'outbox.db-wal',
    'outbox.db-wal',
    'trust.json',
  ]);
  const path = join(dir, file);
  if (!existsSync(path)) return `${file}: absent`;
  const b = readFileSync(path);
  const kind = ctx.rng.pick(['flip', 'flip', 'block', 'zero-page', 'truncate', 'header']);
  let what = kind;
  if (kind === 'flip') {
    const n = 1 + ctx.rng.int(8);
    for (let i = 0; i < n; i++) b[ctx.rng.int(b.length)] ^= 1 << ctx.rng.int(8);
    what = `${n} bit flips`;
  } else if (kind === 'block') {
    const at = ctx.rng.int(b.length);
    const len = 16 + ctx.rng.int(4096);
    for (let i = at; i < Math.min(b.length, at + len); i++) b[i] = ctx.rng.int(256);
    what = `random block at ${at}`;
  } else if (kind === 'zero-page') {
    const page = ctx.rng.int(Math.max(1, Math.floor(b.length / 4096)));
    b.fill(0, page * 4096, Math.min(b.length, page * 4096 + 4096));
    what = `page ${page} zeroed`;
  } else if (kind === 'header') {
    for (let i = 0; i < 4; i++) b[ctx.rng.int(Math.min(b.length, 100))] = ctx.rng.int(256);
    what = 'header bytes';
  }
  writeFileSync(path, b);
  if (kind === 'truncate') {
    const len = ctx.rng.int(b.length);
    truncateSync(path, len);
    what = `truncated to ${len}`;
  }
  return `${file}: ${what}`;
}

function runChild(
  list: string[],
  listFile: string,
  keyFile: string,
  root: string,
): Promise<{ outcomes: Outcome[]; died?: string }> {
  writeFileSync(listFile, JSON.stringify(list));
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [join(distTest, 'torture/children/open-mutant.js'), listFile, keyFile, root],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const outcomes: Outcome[] = [];
    let buf = '';
    let err = '';
    let timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
    child.stdout.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        outcomes.push(JSON.parse(l) as Outcome);
        clearTimeout(timer);
        timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
      }
    });
    child.stderr.on('data', (d) => {
      err = (err + d).slice(-2000);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(
        code === 0
          ? { outcomes }
          : {
              outcomes,
              died: signal === 'SIGKILL' ? `hang over ${HANG_MS} ms` : `exit ${code ?? signal}: ${err}`,
            },
      );
    });
  });
}

/** R7: mutated outbox, WAL and trust-state files: crashes, hangs, and whether each loss is quarantined and reported. */
export const r7: Row = {
  id: 'R7',
  what: 'corrupt outbox, WAL and state-file mutants',
  async run(ctx) {
    const r = emptyResult('mutants');
    const { privateKey } = generateKeyPairSync('ed25519');
    const keyFile = join(ctx.dir, 'signing.key');
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const keyId = keyIdOf(rawPublicKey(privateKey));
    const sealer: Sealer = (stream, items, head) =>
      seal(
        {
          deviceId: 'gw-r7',
          signingKey: privateKey,
          keyId,
          nowMs: 1_764_150_000_000,
          clock: ClockQuality.SYNCED,
        },
        stream,
        items,
        head,
      );
    const base = await pristine(ctx, keyFile, sealer);
    const root = readFileSync(join(ctx.dir, 'root.b64'), 'utf8');
    const total = ctx.quick ? QUICK_MUTANTS : FULL_MUTANTS;
    const tally = { intact: 0, quarantined: 0, reportedLoss: 0, silentLoss: 0, damagedKept: 0 };
    for (let start = 0; start < total; start += PER_CHILD) {
      const list: string[] = [];
      const what = new Map<string, string>();
      for (let i = start; i < Math.min(total, start + PER_CHILD); i++) {
        const dir = join(ctx.dir, `m${i}`);
        mkdirSync(dir);
        for (const f of ['outbox.db', 'outbox.db-wal', 'outbox.db.hwm', 'trust.json'])
          copyFileSync(join(base, f), join(dir, f));
        what.set(dir, `mutant ${i} (seed ${ctx.seed}): ${mutate(ctx, dir)}`);
        list.push(dir);
      }
      let pending = list;
      while (pending.length > 0) {
        const { outcomes, died } = await runChild(pending, join(ctx.dir, 'list.json'), keyFile, root);
        for (const o of outcomes) judge(r, o, what.get(o.dir)!, tally);
        pending = pending.slice(outcomes.length);
        if (died) {
          r.cases++;
          r.crashes++;
          addDefect(r, `${what.get(pending[0])}: the process died opening it: ${died}`);
          pending = pending.slice(1);
        }
      }
    }
    r.notes = `${tally.intact} opened intact, ${tally.quarantined} quarantined with a notice, ${tally.reportedLoss} opened with the lost batches reported by exact range, ${tally.silentLoss} opened with rows silently missing, ${tally.damagedKept} opened keeping rows whose signature no longer holds`;
    return r;
  },
};

function judge(r: RowResult, o: Outcome, what: string, tally: Record<string, number>): void {
  r.cases++;
  if (o.crash) {
    r.crashes++;
    addDefect(r, `${what}: ${o.crash.split('\n')[0]}`);
    return;
  }
  if (o.quarantined) {
    if ((o.notices ?? 0) === 0) addDefect(r, `${what}: quarantined without a buffer.quarantined notice`);
    tally.quarantined++;
    return;
  }
  const present = new Set(o.values);
  let missing = 0;
  let unreported = 0;
  const reported = (seq: number) => (o.lost ?? []).some(([f, t]) => seq >= f && seq <= t);
  for (let v = 0; v < BATCHES * PER_BATCH; v++) {
    if (present.has(v)) continue;
    missing++;
    // Batch seq k holds the readings (k-1)*PER_BATCH .. k*PER_BATCH-1.
    if (!reported(Math.floor(v / PER_BATCH) + 1)) unreported++;
  }
  if (missing > 0 && unreported === 0) {
    // Bit rot took the WAL's tail: nothing can bring it back, but the loss is announced exactly.
    tally.reportedLoss++;
  } else if (missing > 0) {
    tally.silentLoss++;
    r.lost += missing;
    addDefect(r, `${what}: opened without a quarantine, ${missing} accepted readings gone`);
  } else if ((o.badRows ?? 0) > 0) {
    tally.damagedKept++;
    addDefect(
      r,
      `${what}: opened without a quarantine, ${o.badRows} rows kept whose envelope no longer verifies`,
    );
  } else tally.intact++;
}
