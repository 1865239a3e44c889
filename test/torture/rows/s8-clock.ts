import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Retention } from '../../../agent/src/buffer/index.js';
import { ManualClock, Stream, type StreamItem, silentLogger } from '../../../agent/src/core/index.js';
import { ClockMonitor, EventReporter } from '../../../agent/src/monitor/index.js';
import { verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { makeOutbox, reading, testSealer } from '../../helpers/outbox.js';
import { addDefect, type Ctx, emptyResult, type Row, type RowResult } from '../lib.js';

const HOUR = 3_600_000;
const YEAR = 365 * 24 * HOUR;
const START = Date.parse('2026-11-27T08:00:00Z');
/** Wall clock of each phase, relative to the true time (the monotonic clock keeps the truth). */
const PHASES: { name: string; wall: (trueNow: number) => number }[] = [
  { name: 'true time', wall: (t) => t },
  { name: '1970', wall: (t) => t - START },
  { name: '+10 years', wall: (t) => t + 10 * YEAR },
  { name: 'true time again', wall: (t) => t },
  { name: '1970 again', wall: (t) => t - START },
  { name: '+10 years again', wall: (t) => t + 10 * YEAR },
  { name: 'back to true time', wall: (t) => t },
];
/** Each phase lasts this long on the monotonic clock: longer than the monitor's settle time. */
const PHASE_MS = 2 * HOUR;
const STEP_MS = 5 * 60_000;

async function scenario(ctx: Ctx, r: RowResult, withMarker: boolean): Promise<void> {
  const dir = join(ctx.dir, withMarker ? 'synced' : 'unsynced');
  const root = join(dir, 'root');
  mkdirSync(root, { recursive: true });
  const marker = join(root, 'run/systemd/timesync/synchronized');
  if (withMarker) {
    mkdirSync(join(root, 'run/systemd/timesync'), { recursive: true });
    writeFileSync(marker, '');
    utimesSync(marker, START / 1000, START / 1000);
  }
  const clock = new ManualClock(START);
  const { sealer, ring } = testSealer('gw-test', clock);
  const outbox = makeOutbox(dir, { clock, sealer });
  await outbox.start();
  const reporter = new EventReporter({
    submit: async (items: StreamItem[]) => void (await outbox.append([{ stream: Stream.EVENTS, items }])),
    aggregateMs: 60_000,
    clock,
    log: silentLogger(),
  });
  const monitor = new ClockMonitor({
    clock,
    reporter,
    stateDir: dir,
    root,
    maxForwardJumpMs: 300_000,
    intervalMs: 10_000,
  });
  // Retention of a day: nothing in these 14 hours of true time is old enough to go.
  const retention = new Retention({
    outbox,
    hours: { telemetry: 24, events: 24, reports: 24 },
    clock,
    log: silentLogger(),
  });
  await monitor.start();
  await retention.start();
  let n = 0;
  let trueNow = START;
  for (const phase of PHASES) {
    for (let t = 0; t < PHASE_MS; t += STEP_MS) {
      clock.setWall(phase.wall(trueNow));
      clock.advance(STEP_MS);
      trueNow += STEP_MS;
      await outbox.append([{ stream: Stream.TELEMETRY, items: [reading(n++), reading(n++)] }]);
      r.cases++;
    }
  }
  await retention.stop();
  await monitor.stop();
  await outbox.idle();
  const rows = outbox.peek(1_000_000);
  const name = withMarker ? 'with an NTP marker that never moves' : 'without NTP';
  for (const s of [Stream.TELEMETRY, Stream.EVENTS]) {
    const seqs = rows.filter((x) => x.stream === s).map((x) => x.seq);
    const dupes = seqs.length - new Set(seqs).size;
    if (dupes > 0) addDefect(r, `${name}: ${dupes} seq collisions in stream ${s}`);
  }
  let evicted = 0;
  for (const row of rows.filter((x) => x.stream === Stream.EVENTS))
    for (const e of verifyEnvelope(row.envelope, ring).batch.events)
      if (e.type === 'buffer.evicted' && e.details.reason === 'retention') evicted += Number(e.details.items);
  if (evicted > 0) {
    r.lost += evicted;
    addDefect(
      r,
      `${name}: ${evicted} readings evicted by retention within 14 h of true time (retention 24 h): the wall clock decided`,
    );
  }
  ctx.log(`${name}: ${n} readings, ${evicted} lost to retention`);
  await outbox.stop();
}

/** S8: wall-clock jumps to 1970 and 10 years ahead, back and forth, under the real clock monitor and retention. */
export const s8: Row = {
  id: 'S8',
  what: 'clock set to 1970, +10 years, back and forth: seq collisions, rows lost to retention',
  async run(ctx) {
    const r = emptyResult('cases');
    await scenario(ctx, r, false);
    await scenario(ctx, r, true);
    r.notes = `${PHASES.map((p) => p.name).join(' -> ')}, ${PHASE_MS / HOUR} h each on the monotonic clock`;
    return r;
  },
};
