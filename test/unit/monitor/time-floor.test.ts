import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ClockQuality, ManualClock, type StreamItem, silentLogger } from '../../../agent/src/core/index.js';
import {
  ClockMonitor,
  EventReporter,
  MAX_UNAUTHENTICATED_FLOOR_STEP_MS,
} from '../../../agent/src/monitor/index.js';
import { tempDir } from '../../helpers/paths.js';

const t = tempDir();
after(() => t.cleanup());

const DAY = 86_400_000;
const YEAR = 365 * DAY;
const FLOOR = Date.UTC(2026, 10, 20);

/** A data dir with a persisted floor and a gateway root where systemd-timesyncd says "synchronized". */
function gateway(name: string): { stateDir: string; root: string } {
  const stateDir = join(t.dir, name, 'data');
  const root = join(t.dir, name, 'root');
  mkdirSync(stateDir, { recursive: true });
  mkdirSync(join(root, 'run/systemd/timesync'), { recursive: true });
  writeFileSync(join(root, 'run/systemd/timesync/synchronized'), '');
  writeFileSync(join(stateDir, 'time-floor.json'), JSON.stringify({ floorMs: FLOOR }));
  return { stateDir, root };
}

function boot(
  g: { stateDir: string; root: string },
  clock: ManualClock,
  evidence?: () => number[],
  raised: string[] = [],
) {
  const submit = async (items: StreamItem[]) => {
    for (const i of items) if ('event' in i) raised.push(i.event.type);
  };
  const reporter = new EventReporter({ submit, aggregateMs: 0, clock, log: silentLogger() });
  return new ClockMonitor({
    clock,
    reporter,
    ...g,
    maxForwardJumpMs: 300_000,
    intervalMs: 10_000,
    evidence,
  });
}

const persisted = (g: { stateDir: string }): number =>
  JSON.parse(readFileSync(join(g.stateDir, 'time-floor.json'), 'utf8')).floorMs;

describe('time floor', () => {
  it('one boot with a "synced" clock 10 years ahead does not poison the floor', async () => {
    const g = gateway('spoofed');
    const spoofed = new ManualClock(FLOOR + DAY + 10 * YEAR);
    const a = boot(g, spoofed);
    await a.start();
    assert.equal(a.quality(), ClockQuality.SYNCED, 'the spoofed clock looks synced');
    spoofed.advance(3_600_000);
    a.check();
    await a.stop();
    const uptime = 3_600_000;
    assert.ok(
      a.floor <= FLOOR + MAX_UNAUTHENTICATED_FLOOR_STEP_MS + uptime,
      `floor rose to ${new Date(a.floor).toISOString()}`,
    );
    assert.ok(persisted(g) <= FLOOR + MAX_UNAUTHENTICATED_FLOOR_STEP_MS + uptime);

    // Back at the right time (two days after the old floor): the clock is plausible again.
    const honest = new ManualClock(FLOOR + 2 * DAY);
    const b = boot(g, honest);
    await b.start();
    assert.equal(b.quality(), ClockQuality.SYNCED);
    assert.ok(b.trusted(), 'expiry checks, retention and key rotation may act');
    await b.stop();
  });

  it('an unauthenticated source raises the floor no faster than the monotonic clock plus one bounded step', async () => {
    const g = gateway('pace');
    const clock = new ManualClock(FLOOR + 30 * DAY);
    const m = boot(g, clock);
    await m.start();
    assert.equal(m.floor, FLOOR + MAX_UNAUTHENTICATED_FLOOR_STEP_MS, 'one step at boot, not 30 days');
    for (let i = 0; i < 6; i++) clock.advance(10_000);
    assert.equal(m.floor, FLOOR + MAX_UNAUTHENTICATED_FLOOR_STEP_MS + 60_000, 'then with the uptime');
    await m.stop();
  });

  it('signed evidence raises it fully: a certificate notBefore at start, an accepted document issuedAt', async () => {
    const g = gateway('signed');
    const clock = new ManualClock(FLOOR + 30 * DAY);
    const notBefore = FLOOR + 10 * DAY;
    const m = boot(g, clock, () => [notBefore]);
    await m.start();
    assert.equal(
      m.floor,
      notBefore + MAX_UNAUTHENTICATED_FLOOR_STEP_MS,
      'from the certificate, then one step',
    );
    m.raiseFloor(FLOOR + 29 * DAY);
    assert.equal(m.floor, FLOOR + 29 * DAY);
    assert.equal(persisted(g), FLOOR + 29 * DAY, 'persisted at once');
    clock.advance(10_000);
    assert.equal(
      m.floor,
      FLOOR + 29 * DAY + 10_000 + MAX_UNAUTHENTICATED_FLOOR_STEP_MS,
      'the synced clock, within a step of the signed time',
    );
    await m.stop();
  });

  it('a persisted floor no date can hold (1e300) is quarantined and reported; the monitor starts', async () => {
    // Seen by a hostile review: toISOString threw in start(), and the daemon died at every start.
    const g = gateway('beyond-dates');
    writeFileSync(join(g.stateDir, 'time-floor.json'), '{"floorMs":1e300}');
    const raised: string[] = [];
    const m = boot(g, new ManualClock(FLOOR + DAY), undefined, raised);
    await m.start();
    assert.ok(raised.includes('agent.state_quarantined'), `raised ${raised.join(', ')}`);
    assert.ok(Number.isFinite(new Date(m.floor).getTime()), 'the floor is a date again');
    assert.equal(m.quality(), ClockQuality.SYNCED);
    await m.stop();
  });
});
