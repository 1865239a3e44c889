import { join } from 'node:path';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { Every, type Service } from '../core/index.js';
import {
  AuthMonitor,
  BufferPressure,
  DoorMonitor,
  FileTail,
  HealthSampler,
  JournalSource,
  ListenerMonitor,
  parseAuthMessage,
  parseJournalLine,
} from '../monitor/index.js';
import { type DaemonCore, task, type Wired } from './core.js';
import type { Pipeline } from './pipeline.js';
import { reportTo } from './services.js';

export interface Monitoring {
  health: HealthSampler;
  door: DoorMonitor | undefined;
}

/** The gateway watched: buffer pressure, logins, listeners, the cabinet door, health figures. */
export function wireMonitoring(core: DaemonCore, pipe: Pipeline): Wired<Monitoring> {
  const { config, clock, log, bus } = core;
  const m = config.monitor;
  const monitorLog = log.child({ module: 'monitor' });
  const pressure = new BufferPressure(pipe.events);
  const pressureTimer = new Every(clock, 10_000, () =>
    pressure.check(pipe.outbox.usedBytes(), config.storage.maxBytes),
  );
  const pressureTask = task(
    'buffer-pressure',
    () => pressureTimer.start(),
    () => pressureTimer.stop(),
  );
  const auth = new AuthMonitor({
    reporter: pipe.events,
    threshold: m.auth.threshold,
    windowMs: m.auth.windowS * 1000,
    technicians: m.auth.technicians,
    clock,
  });
  const onAuthLine = (journal: boolean) => (line: string) => {
    const j = journal ? parseJournalLine(line) : { message: line, tsMs: null, service: 'sshd' };
    const o = j && parseAuthMessage(j.message, j.service);
    if (o) auth.observe(o, j.tsMs ?? undefined);
  };
  const authSource =
    m.auth.source === 'journal'
      ? new JournalSource(onAuthLine(true), monitorLog)
      : m.auth.source === 'file'
        ? new FileTail(join(m.root, m.auth.file), onAuthLine(false), monitorLog, clock)
        : undefined;
  const listeners = new ListenerMonitor({
    root: m.root,
    allow: m.listeners.allow,
    intervalMs: m.listeners.intervalS * 1000,
    reporter: pipe.events,
    clock,
  });
  const door = m.door
    ? new DoorMonitor({
        path: join(m.root, m.door.path),
        openValue: m.door.openValue,
        reporter: pipe.events,
        clock,
        report: reportTo(bus, 'door-monitor'),
      })
    : undefined;
  const loop = monitorEventLoopDelay({ resolution: 20 });
  const loopTask = task(
    'event-loop',
    () => loop.enable(),
    () => loop.disable(),
  );
  const health = new HealthSampler({
    schedule: config.health.schedule,
    submit: bus.submit,
    agentFigures: () => agentFigures(loop, pipe),
    clock,
    log: monitorLog,
    report: reportTo(bus, 'health'),
  });
  const optional: Service[] = [
    pressureTask,
    auth,
    ...(authSource ? [authSource] : []),
    ...(m.listeners.enabled ? [listeners] : []),
    ...(door ? [door] : []),
    ...(config.health.enabled ? [health] : []),
  ];
  return { health, door, services: [loopTask], optional };
}

/** The agent's own health figures, sampled with the gateway's. */
function agentFigures(loop: IntervalHistogram, pipe: Pipeline): Record<string, number> {
  const lag = loop.percentile(99) / 1e6;
  loop.reset();
  const rows = pipe.outbox.stats().reduce((n, s) => n + s.pending.rows + s.sent.rows, 0);
  return { event_loop_lag_p99: Math.round(lag * 10) / 10, buffer_rows: rows };
}
