import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  ManualClock,
  type SecurityEvent,
  Stream,
  type StreamItem,
  silentLogger,
} from '../../../agent/src/core/index.js';
import {
  AuthMonitor,
  BufferPressure,
  ClockMonitor,
  CRASH_LOOP_STARTS,
  DoorMonitor,
  EventReporter,
  FileTail,
  ListenerMonitor,
  MAX_HELD_EVENTS,
  parseAuthMessage,
  parseJournalLine,
  readListeners,
  recordCleanStop,
  recordStart,
} from '../../../agent/src/monitor/index.js';
import { tempDir } from '../../helpers/paths.js';

const t = tempDir();
after(() => t.cleanup());

function reporter(clock = new ManualClock(Date.UTC(2026, 10, 26)), aggregateMs = 60_000) {
  const events: SecurityEvent[] = [];
  const r = new EventReporter({
    submit: async (items: StreamItem[]) => {
      for (const i of items) if (i.stream === Stream.EVENTS) events.push(i.event);
    },
    aggregateMs,
    clock,
    log: silentLogger(),
  });
  return { r, events, clock };
}
const flush = () => new Promise((res) => setImmediate(res));

describe('event reporter', () => {
  it('holds events a full disk refuses and offers them again until accepted; other failures are not retried', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26));
    const accepted: string[] = [];
    let refuse: string | null = 'BUFFER_DISK_FULL';
    let offers = 0;
    const r = new EventReporter({
      submit: async (items: StreamItem[]) => {
        offers++;
        if (refuse) throw Object.assign(new Error('nothing was accepted'), { code: refuse });
        for (const i of items) if (i.stream === Stream.EVENTS) accepted.push(i.event.subject);
      },
      aggregateMs: 0,
      clock,
      log: silentLogger(),
    });
    await r.start();
    r.raise('agent.capability_failed', 'sensors', { capability: 'sensors', code: 'BUFFER_DISK_FULL' });
    r.raise('cert.unreadable', 'gw-a', {});
    await flush();
    clock.advance(5_000);
    await flush();
    assert.equal(offers, 3, 'two refused, then one retry of both together');
    assert.deepEqual(accepted, []);
    refuse = null;
    clock.advance(5_000);
    await flush();
    assert.deepEqual(accepted, ['sensors', 'gw-a'], 'delivered in order once space is back');
    clock.advance(60_000);
    await flush();
    assert.equal(offers, 4, 'nothing offered twice once accepted');
    refuse = 'BUFFER_IO_ERROR';
    r.raise('clock.jump', 'clock', {});
    await flush();
    refuse = null;
    clock.advance(60_000);
    await flush();
    assert.deepEqual(
      accepted,
      ['sensors', 'gw-a'],
      'an I/O error is not retried (the watchdog restarts the agent)',
    );
    refuse = 'BUFFER_DISK_FULL';
    for (let i = 0; i < MAX_HELD_EVENTS + 10; i++) r.raise('auth.login', `u${i}`, {});
    await flush();
    refuse = null;
    clock.advance(5_000);
    await flush();
    assert.equal(accepted.length, 2 + MAX_HELD_EVENTS, 'held events are bounded');
    assert.equal(accepted[2], 'u10', 'the oldest went first');
    await r.stop();
  });

  it('sends the first of a storm at once and folds the rest into one event with count, first and last time', async () => {
    const { r, events, clock } = reporter();
    const t0 = clock.now();
    for (let i = 0; i < 50; i++) {
      r.raise('net.new_listener', 'tcp/8080', { port: '8080' });
      clock.advance(100);
    }
    r.raise('net.new_listener', 'tcp/9090', {});
    await flush();
    assert.equal(events.length, 2, 'first occurrences only, so far');
    assert.equal(events[0].severity, 4, 'severity from the catalogue');
    clock.advance(60_000);
    await flush();
    assert.equal(events.length, 3);
    assert.equal(events[2].count, 50);
    assert.equal(events[2].firstTsMs, t0);
    assert.equal(events[2].lastTsMs, t0 + 4900);
  });

  it('strips control characters and caps hostile text', async () => {
    const { r, events } = reporter();
    r.raise('auth.login', `evil\u001b[31m\u0007${'x'.repeat(500)}`, { 'k\n': 'v\r\n' });
    await flush();
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
    assert.doesNotMatch(events[0].subject, /[\u0000-\u001f]/);
    assert.ok(events[0].subject.length <= 257);
    assert.deepEqual(events[0].details, { 'k?': 'v??' });
  });
});

const journal = (message: string | number[], us: number, id = 'sshd') =>
  JSON.stringify({ MESSAGE: message, __REALTIME_TIMESTAMP: String(us), SYSLOG_IDENTIFIER: id });

describe('login monitoring', () => {
  it('parses sshd and login messages, and survives hostile lines', () => {
    assert.deepEqual(
      parseAuthMessage('Failed password for invalid user admin from 203.0.113.5 port 4242 ssh2'),
      { kind: 'failed', user: 'admin', from: '203.0.113.5', service: 'sshd' },
    );
    assert.deepEqual(
      parseAuthMessage('Accepted publickey for tech from 10.0.0.2 port 5022 ssh2: ED25519 SHA256:x'),
      {
        kind: 'accepted',
        method: 'publickey',
        user: 'tech',
        from: '10.0.0.2',
        service: 'sshd',
      },
    );
    assert.equal(
      parseAuthMessage("FAILED LOGIN (1) on '/dev/tty1' FOR 'root', Authentication failure")?.kind,
      'failed',
    );
    assert.equal(
      parseAuthMessage('Failed password for \u001b[2Jroot from 1.2.3.4; rm -rf / port 1 ssh2'),
      null,
    );
    const weird = parseAuthMessage(`Failed password for ${'\u0000'.repeat(3)}x from $(reboot) port 22 ssh2`);
    assert.deepEqual(weird, { kind: 'failed', user: '???x', from: 'invalid', service: 'sshd' });
    assert.equal(parseAuthMessage('x'.repeat(1_000_000)), null);
    assert.equal(parseJournalLine('{not json'), null);
    assert.equal(parseJournalLine('42'), null);
    // journald stores a message that is not valid UTF-8 as a byte array
    const bytes = [
      ...Buffer.from('Failed password for ro'),
      0xff,
      0xfe,
      ...Buffer.from('ot from 198.51.100.7 port 22 ssh2'),
    ];
    const j = parseJournalLine(journal(bytes, 1_764_150_000_000_000));
    assert.equal(j?.tsMs, 1_764_150_000_000);
    assert.equal(parseAuthMessage(j?.message ?? '')?.kind, 'failed');
  });

  it('a replayed journal with a brute-force burst raises one aggregated alert', async () => {
    const { r, events, clock } = reporter();
    const auth = new AuthMonitor({
      reporter: r,
      threshold: 5,
      windowMs: 60_000,
      technicians: ['tech'],
      clock,
    });
    const dir = join(t.dir, 'journal');
    mkdirSync(dir);
    const base = 1_764_150_000_000_000;
    const lines = [
      journal('Accepted publickey for tech from 10.0.0.2 port 5022 ssh2', base),
      ...Array.from({ length: 40 }, (_, i) =>
        journal(
          `Failed password for ${i % 2 ? 'root' : 'pi'} from 203.0.113.9 port ${4000 + i} ssh2`,
          base + (i + 1) * 1_000_000,
        ),
      ),
      journal('Failed password for pi from 198.51.100.1 port 1 ssh2', base + 50_000_000),
      journal('Accepted password for root from 203.0.113.9 port 4100 ssh2', base + 60_000_000),
      'garbage \u0000\u0001',
      `{"MESSAGE": "${'A'.repeat(200_000)}"}`,
    ];
    writeFileSync(join(dir, 'replay.json'), `${lines.join('\n')}\n`);
    const tail = new FileTail(
      join(dir, 'replay.json'),
      (line) => {
        const j = parseJournalLine(line);
        const o = j && parseAuthMessage(j.message, j.service);
        if (o) auth.observe(o, j?.tsMs ?? undefined);
      },
      silentLogger(),
      clock,
      { fromStart: true },
    );
    await tail.start();
    tail.poll();
    await tail.stop();
    clock.advance(60_000);
    await flush();
    const brute = events.filter((e) => e.type === 'auth.bruteforce');
    assert.equal(
      brute.length,
      1,
      'one alert for the burst; the single failure from another address raises none',
    );
    assert.equal(brute[0].subject, '203.0.113.9');
    assert.equal(brute[0].count, 40);
    assert.equal(brute[0].firstTsMs, 1_764_150_001_000);
    assert.equal(brute[0].lastTsMs, 1_764_150_040_000);
    assert.deepEqual(brute[0].details.users.split(',').sort(), ['pi', 'root']);
    assert.equal(events.filter((e) => e.type === 'auth.root_login').length, 1);
    const login = events.find((e) => e.type === 'auth.login');
    assert.equal(login?.details.technician, 'true');
    assert.equal(login?.severity, 1);
  });
});

describe('file tail', () => {
  it('polls on the injected clock: appended lines arrive when the interval passes, a rotation starts over', async () => {
    const file = join(t.dir, 'auth.log');
    writeFileSync(file, 'old line\n');
    const clock = new ManualClock(Date.UTC(2026, 10, 26));
    const lines: string[] = [];
    const tail = new FileTail(file, (l) => lines.push(l), silentLogger(), clock, { intervalMs: 1000 });
    await tail.start();
    appendFileSync(file, 'one\ntwo\n');
    clock.advance(999);
    assert.deepEqual(lines, [], 'nothing before the interval');
    clock.advance(1);
    assert.deepEqual(lines, ['one', 'two'], 'only what was appended after the start');
    rmSync(file);
    writeFileSync(file, 'rotated\n');
    clock.advance(1000);
    assert.deepEqual(lines, ['one', 'two', 'rotated']);
    await tail.stop();
    appendFileSync(file, 'after stop\n');
    clock.advance(10_000);
    assert.equal(lines.length, 3, 'no poll after stop');
  });
});

describe('listening sockets', () => {
  const root = join(t.dir, 'root');
  mkdirSync(join(root, 'proc/net'), { recursive: true });
  const head =
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  writeFileSync(
    join(root, 'proc/net/tcp'),
    `${head}   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n` +
      `   1: 0100007F:075B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1\n` +
      `   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1\n` +
      `   3: 0200A8C0:0016 0100A8C0:D431 01 00000000:00000000 00:00000000 00000000     0        0 4 1\n`,
  );
  writeFileSync(
    join(root, 'proc/net/tcp6'),
    `${head}   0: 00000000000000000000000000000000:1BB9 00000000000000000000000000000000:0000 0A 0 0 0 0 0 5 1\n`,
  );
  writeFileSync(
    join(root, 'proc/net/udp'),
    `${head}   0: 00000000:007B 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 6 2\n`,
  );

  it('reads listeners from /proc/net under a fixture root', () => {
    const { listeners } = readListeners(root);
    assert.deepEqual(
      listeners.map((l) => `${l.proto}/${l.port}@${l.address}`),
      [
        'tcp/22@0.0.0.0',
        'tcp/1883@127.0.0.1',
        'tcp/8080@0.0.0.0',
        'tcp/7097@0:0:0:0:0:0:0:0',
        'udp/123@0.0.0.0',
      ],
    );
  });

  it('raises net.new_listener once for each listener outside the allowlist', async () => {
    const { r, events, clock } = reporter(undefined, 0);
    const m = new ListenerMonitor({
      root,
      allow: ['tcp/22', 'udp/123'],
      intervalMs: 1000,
      reporter: r,
      clock,
    });
    assert.deepEqual(
      m.check().map((l) => l.port),
      [8080, 7097],
      'loopback and allowed ones are left out',
    );
    assert.deepEqual(m.check(), [], 'reported once while it exists');
    await flush();
    assert.deepEqual(
      events.map((e) => e.subject),
      ['tcp/8080', 'tcp/7097'],
    );
  });
});

describe('clock', () => {
  it('detects jumps both ways and an implausible clock; retention-style decisions wait', async () => {
    const { r, events, clock } = reporter(new ManualClock(Date.UTC(2026, 10, 26, 12)), 0);
    const dir = join(t.dir, 'clock');
    mkdirSync(dir);
    const cm = new ClockMonitor({
      clock,
      reporter: r,
      stateDir: dir,
      root: join(t.dir, 'no-root'),
      maxForwardJumpMs: 300_000,
      intervalMs: 10_000,
      settleMs: 3_600_000,
    });
    await cm.start();
    assert.ok(cm.trusted());
    clock.advance(10_000);
    assert.ok(cm.trusted());
    clock.setWall(clock.now() - 3_600_000);
    clock.advance(10_000);
    assert.equal(cm.trusted(), false, 'a backward jump pauses date-based decisions');
    clock.setWall(clock.now() + 86_400_000);
    clock.advance(10_000);
    clock.setWall(Date.UTC(1970, 0, 1));
    clock.advance(10_000);
    await cm.stop();
    await flush();
    const types = events.map((e) => `${e.type}:${e.subject}`);
    assert.deepEqual(types, [
      'clock.jump:backwards',
      'clock.jump:forwards',
      'clock.jump:backwards',
      'clock.implausible:wall-clock',
    ]);
    assert.equal(cm.quality(), 3);
  });
});

describe("the agent's own health", () => {
  it('counts restarts, spots a crash loop and an unclean stop', async () => {
    const { r, events } = reporter(undefined, 0);
    const dir = join(t.dir, 'life');
    mkdirSync(dir);
    const now = Date.UTC(2026, 10, 26);
    recordStart(dir, now, '0.1.0', r);
    recordCleanStop(dir);
    recordStart(dir, now + 1000, '0.1.0', r);
    let last = { restarts: 0, crashLoop: false };
    for (let i = 2; i < CRASH_LOOP_STARTS; i++) last = recordStart(dir, now + i * 1000, '0.1.0', r);
    await flush();
    assert.equal(last.restarts, CRASH_LOOP_STARTS - 1);
    assert.equal(last.crashLoop, true);
    const started = events.filter((e) => e.type === 'agent.started');
    assert.equal(started[1].details.previous_stop, 'clean');
    assert.equal(started[2].details.previous_stop, 'unclean');
    assert.equal(events.filter((e) => e.type === 'agent.crash_loop').length, 1);
  });

  it('a start that cannot be written down (disk full) is still raised, and never throws', async () => {
    // Hostile review: on a full SD card the write threw after every service had started, and the
    // daemon printed "unexpected error" yet ran on half started, without its signal handlers.
    const { r, events } = reporter(undefined, 0);
    const dir = join(t.dir, 'life-unwritable');
    mkdirSync(join(dir, 'lifecycle.json'), { recursive: true }); // a rename onto it fails, as ENOSPC would
    const now = Date.UTC(2026, 10, 26);
    assert.equal(recordStart(dir, now, '0.1.0', r).restarts, 0);
    recordCleanStop(dir);
    await flush();
    const started = events.filter((e) => e.type === 'agent.started');
    assert.equal(started.length, 1);
    assert.equal(started[0].details.recorded, 'no');
  });

  it('raises buffer.pressure at 90 % and clears it at 70 %, once each', async () => {
    const { r, events } = reporter(undefined, 0);
    const p = new BufferPressure(r);
    for (const pct of [50, 89, 90, 95, 80, 71, 70, 60, 91]) p.check(pct, 100);
    await flush();
    assert.deepEqual(
      events.map((e) => `${e.details.state}@${e.details.percent}`),
      ['high@90', 'cleared@70', 'high@91'],
    );
  });

  it('raises tamper.door_open unless a maintenance window is announced', async () => {
    const { r, events, clock } = reporter(undefined, 0);
    const f = join(t.dir, 'gpio17');
    writeFileSync(f, '0\n');
    const d = new DoorMonitor({ path: f, openValue: '1', reporter: r, clock });
    d.check();
    writeFileSync(f, '1\n');
    d.check();
    d.check();
    writeFileSync(f, '0\n');
    d.check();
    d.announceMaintenance(30, 'tech');
    writeFileSync(f, '1\n');
    d.check();
    await flush();
    assert.equal(events.filter((e) => e.type === 'tamper.door_open').length, 1);
  });

  it('an unreadable door switch is reported once per outage, and its return too', () => {
    const { r, clock } = reporter(undefined, 0);
    const f = join(t.dir, 'gpio-missing');
    const told: string[] = [];
    const d = new DoorMonitor({
      path: f,
      openValue: '1',
      reporter: r,
      clock,
      report: {
        failed: (e) => told.push(`failed:${(e as NodeJS.ErrnoException).code}`),
        recovered: () => told.push('ok'),
      },
    });
    d.check();
    d.check();
    writeFileSync(f, '0\n');
    d.check();
    d.check();
    assert.deepEqual(told, ['failed:ENOENT', 'ok']);
  });
});
