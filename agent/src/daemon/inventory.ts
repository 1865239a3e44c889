import { SensorService } from '../sensors/index.js';
import { SoftwareService } from '../software/index.js';
import { AGENT_VERSION } from '../version.js';
import type { DaemonCore, Wired } from './core.js';
import type { Pipeline } from './pipeline.js';
import { reportTo } from './services.js';

export interface Inventory {
  sensors: SensorService;
  software: SoftwareService;
}

/** What is attached and installed: the sensors behind the gateway, its own software and their vulnerabilities. */
export function wireInventory(core: DaemonCore, pipe: Pipeline): Wired<Inventory> {
  const { config, clock, random, log, bus } = core;
  const dir = config.storage.dir;
  // Profiles bundles and vulnerability feeds are judged for the same gateway, by the same clock.
  const audience = () => ({
    deviceId: config.device.id,
    groups: config.device.groups,
    nowMs: clock.now(),
    clockTrusted: pipe.clockMonitor.trusted(),
  });
  const sensors = new SensorService({
    root: config.monitor.root,
    schedule: config.sensors.schedule,
    declared: config.sensors.declared,
    bundleFile: config.sensors.profilesBundle,
    stateDir: dir,
    // The one store in force: its own copy would erase the other floors when either saves.
    trust: core.trust,
    audience,
    raise: bus.raise,
    submit: bus.submit,
    clock,
    log: log.child({ module: 'sensors' }),
    report: reportTo(bus, 'sensors'),
  });
  const software = new SoftwareService({
    root: config.monitor.root,
    schedule: config.software.schedule,
    feedFile: config.software.feed,
    stateDir: dir,
    deviceId: config.device.id,
    agentVersion: AGENT_VERSION,
    // The one store in force, so the feed's version floor and a key rotation never overwrite each other.
    trust: core.trust,
    audience,
    raise: bus.raise,
    submit: bus.submit,
    clock,
    random,
    log: log.child({ module: 'software' }),
    report: reportTo(bus, 'software'),
  });
  bus.on('document', (d) => {
    if (d.topic === 'vulnerabilities') software.onFeedDocument(d.raw);
  });
  return {
    sensors,
    software,
    services: [],
    optional: [...(config.sensors.enabled ? [sensors] : []), ...(config.software.enabled ? [software] : [])],
  };
}
