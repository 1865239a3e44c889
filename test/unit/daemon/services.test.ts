import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { ManualClock, ScheduledJob, type Service, silentLogger } from '../../../agent/src/core/index.js';
import { Bus, type RaisedEvent, reportTo, ServiceSet } from '../../../agent/src/daemon/index.js';

const flush = () => new Promise((r) => setImmediate(r));

/** A service whose start throws `failStarts` times, then works. */
function flaky(name: string, failStarts: number): Service & { starts: number; stops: number } {
  const s = {
    name,
    starts: 0,
    stops: 0,
    start: async () => {
      s.starts++;
      if (s.starts <= failStarts)
        throw Object.assign(new Error(`${name} cannot open its file`), { code: 'SQLITE_CORRUPT' });
    },
    stop: async () => {
      s.stops++;
    },
  };
  return s;
}

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const bus = new Bus(silentLogger());
  const raised: RaisedEvent[] = [];
  bus.on('raise', (e) => raised.push(e));
  return { clock, bus, raised, deps: { clock, log: silentLogger(), bus } };
}

describe('daemon: isolated capabilities', () => {
  it('an optional capability failing at start raises agent.capability_failed, is retried with backoff, and recovers', async () => {
    const { clock, raised, deps } = setup();
    const core = flaky('outbox', 0);
    const sensors = flaky('sensors', 2);
    const set = new ServiceSet([core], [sensors], deps);
    await set.start();
    assert.equal(set.criticalUp, true, 'the critical part runs');
    const s = set.states().find((x) => x.name === 'sensors');
    assert.equal(s?.state, 'failed');
    assert.equal(s?.error?.code, 'SQLITE_CORRUPT');
    assert.deepEqual(
      raised.map((e) => [e.type, e.details.capability, e.details.code]),
      [['agent.capability_failed', 'sensors', 'SQLITE_CORRUPT']],
    );
    assert.equal(sensors.stops, 1, 'a failed start is cleaned up by stop');
    clock.advance(4_999);
    await flush();
    assert.equal(sensors.starts, 1, 'not retried before 5 s');
    clock.advance(1);
    await flush();
    assert.equal(sensors.starts, 2, 'retried after 5 s');
    assert.equal(raised.length, 1, 'the same code is not raised again');
    clock.advance(9_999);
    await flush();
    assert.equal(sensors.starts, 2, 'the second retry waits 10 s');
    clock.advance(1);
    await flush();
    assert.equal(sensors.starts, 3);
    assert.equal(set.states().find((x) => x.name === 'sensors')?.state, 'running');
    await set.stop();
    assert.equal(core.stops, 1);
  });

  it('a critical capability failing at start stops those started and rethrows', async () => {
    const { deps } = setup();
    const a = flaky('identity', 0);
    const b = flaky('outbox', 1);
    const set = new ServiceSet([a, b], [], deps);
    await assert.rejects(set.start(), /outbox cannot open/);
    assert.equal(a.stops, 1);
    assert.equal(set.criticalUp, false);
  });

  it('a run-time failure shows in the states once per code, and its recovery too', async () => {
    const { bus, raised, deps } = setup();
    const door = flaky('door-monitor', 0);
    const set = new ServiceSet([], [door], deps);
    await set.start();
    const report = reportTo(bus, 'door-monitor');
    const gone = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    report.failed(gone);
    report.failed(gone);
    assert.equal(set.states()[0].state, 'failed');
    assert.equal(raised.filter((e) => e.type === 'agent.capability_failed').length, 1);
    report.recovered();
    assert.equal(set.states()[0].state, 'running');
    assert.equal(set.states()[0].error, null);
  });

  it('a throwing bus handler never keeps the other handlers from running', () => {
    const { bus } = setup();
    const seen: number[] = [];
    bus.on('committed', () => {
      throw new Error('boom');
    });
    bus.on('committed', ({ items }) => seen.push(items));
    bus.emit('committed', { items: 3 });
    assert.deepEqual(seen, [3]);
  });
});

describe('ScheduledJob', () => {
  it('runs on the injected clock, never twice at once, and retries a failed run with backoff', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 12, 0, 0));
    let runs = 0;
    let fail = true;
    let release: () => void = () => undefined;
    const told: string[] = [];
    const job = new ScheduledJob({
      name: 'inventory',
      schedule: '0 0 * * * *',
      clock,
      log: silentLogger(),
      report: { failed: (e) => told.push(e.message), recovered: () => told.push('ok') },
      run: async () => {
        runs++;
        if (fail) throw new Error('BUFFER_DISK_FULL');
        await new Promise<void>((r) => {
          release = r;
        });
      },
    });
    job.start();
    clock.advance(3_599_999);
    await flush();
    assert.equal(runs, 0, 'nothing before the hour');
    clock.advance(1);
    await flush();
    assert.equal(runs, 1);
    assert.deepEqual(told, ['BUFFER_DISK_FULL']);
    fail = false;
    clock.advance(5_000);
    await flush();
    assert.equal(runs, 2, 'the failed run is retried after 5 s, not an hour later');
    const manual = job.runNow();
    assert.equal(runs, 2, 'no second run while one is in progress');
    release();
    await manual;
    assert.deepEqual(told, ['BUFFER_DISK_FULL', 'ok']);
    await job.stop();
  });
});

describe('ScheduledJob: a first run by hand', () => {
  it('that fails is retried with backoff, not at the next scheduled time', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 12, 0, 1));
    let runs = 0;
    let fail = true;
    const job = new ScheduledJob({
      name: 'sensors',
      schedule: '0 0 * * * *',
      clock,
      log: silentLogger(),
      run: async () => {
        runs++;
        if (fail) throw Object.assign(new Error('sysfs unreadable'), { code: 'DISCOVERY_FAILED' });
      },
    });
    job.start();
    await job.runNow();
    assert.equal(runs, 1);
    clock.advance(4_999);
    await flush();
    assert.equal(runs, 1, 'not before the backoff');
    clock.advance(1);
    await flush();
    assert.equal(runs, 2, 'retried after 5 s');
    fail = false;
    clock.advance(10_000);
    await flush();
    assert.equal(runs, 3, 'the second retry after 10 s');
    clock.advance(3_599_000 - 15_000 - 1);
    await flush();
    assert.equal(runs, 3, 'then the schedule only: nothing until the hour');
    clock.advance(1);
    await flush();
    assert.equal(runs, 4, 'one run on the hour, no leftover timer doubling it');
    await job.stop();
  });
});

describe('crash handlers', () => {
  it('an unhandled rejection is logged under err and ends the process with code 2', () => {
    const mod = new URL('../../../agent/src/daemon/index.js', import.meta.url).href;
    const core = new URL('../../../agent/src/core/index.js', import.meta.url).href;
    const script = `
      const { installCrashHandlers } = await import(${JSON.stringify(mod)});
      const { createLogger } = await import(${JSON.stringify(core)});
      installCrashHandlers(createLogger());
      setTimeout(() => console.log('still running'), 500);
      Promise.reject(Object.assign(new Error('the cron tick failed'), { code: 'BUFFER_DISK_FULL' }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '', 'it stopped at once');
    const line = JSON.parse(r.stderr.trim().split('\n').at(-1) ?? '{}');
    assert.equal(line.level, 60);
    assert.equal(line.err.message, 'the cron tick failed');
    assert.equal(line.err.code, 'BUFFER_DISK_FULL');
  });
});
