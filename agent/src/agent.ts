import type { AgentConfig } from './config/index.js';
import type { Clock, Logger, Random } from './core/index.js';
import {
  type AgentStatus,
  Bus,
  daemonStatus,
  Intake,
  type Pipeline,
  type RemoteDocument,
  ServiceSet,
  trustOf,
  wipeDaemon,
  wireIntegrityAudit,
  wireInventory,
  wireMonitoring,
  wirePipeline,
  wireRemote,
  wireSockets,
  wireUplink,
} from './daemon/index.js';
import type { HealthSampler } from './monitor/index.js';
import { recordCleanStop, recordStart } from './monitor/index.js';
import type { Sync } from './sync/index.js';
import type { TrustStore } from './trust/index.js';
import { AGENT_VERSION } from './version.js';

/** What the composition root needs from the outside world; tests inject their own. */
export interface AgentDeps {
  clock: Clock;
  random: Random;
  log: Logger;
  /** A signed config or keys document arrived: the supervisor judges it. */
  onDocument?: (doc: RemoteDocument) => void;
  /** The supervisor's trust store (role keys, floors); without one the agent reads the data dir's. */
  trust?: TrustStore;
  /** The link to the broker came up. */
  onUp?: () => void;
  /** Version of the remote config in force, for the status messages. */
  configVersion?: number;
}

/**
 * The composition root. Each capability is wired by one function of `daemon/`,
 * in data-flow order: sources → privacy → batcher → seal → outbox ⇢ uplink →
 * collector; capabilities talk through the bus, never through each other.
 */
export class Agent {
  readonly bus: Bus;
  /** The critical path (outbox, batcher, events, clock), for the supervisor and the demo. */
  readonly pipe: Pipeline;
  readonly sync: Sync;
  readonly health: HealthSampler;
  /** Resolves when the agent asks to be stopped (after a wipe). */
  readonly stopRequested: Promise<string>;
  private requestStop!: (why: string) => void;
  private readonly services: ServiceSet;
  readonly status: () => AgentStatus;

  constructor(
    readonly config: AgentConfig,
    private readonly deps: AgentDeps,
  ) {
    const { clock, log } = deps;
    this.stopRequested = new Promise((resolve) => {
      this.requestStop = resolve;
    });
    this.bus = new Bus(log.child({ module: 'bus' }));
    const core = {
      ...deps,
      config,
      bus: this.bus,
      configVersion: deps.configVersion ?? 0,
      bootTime: clock.now(),
      trust: trustOf(config, deps.trust),
    };
    const pipe = wirePipeline(core);
    const { sync, ...uplink } = wireUplink(core, pipe);
    const remote = wireRemote(core, pipe, sync, deps.onDocument);
    if (deps.onUp) this.bus.on('up', deps.onUp);
    const monitoring = wireMonitoring(core, pipe);
    const inventory = wireInventory(core, pipe);
    const { integrity, audit, ...checks } = wireIntegrityAudit(core, pipe);
    const intake = new Intake(config.privacy.rules, pipe.privacy, this.bus);
    this.status = () =>
      daemonStatus({
        core,
        pipe,
        sync,
        integrity,
        audit,
        software: inventory.software,
        services: this.services,
      });
    const sockets = wireSockets(core, {
      pipe,
      sync,
      certs: remote.certs,
      monitoring,
      intake,
      status: this.status,
      wipe: async (technician) => {
        const report = await wipeDaemon(
          config,
          this.services,
          { admin: sockets.admin, pipe },
          technician,
          log,
        );
        clock.setTimeout(() => this.requestStop('wiped'), 100);
        return report;
      },
    });
    const wired = [pipe, uplink, remote, monitoring, inventory, checks, sockets];
    this.services = new ServiceSet(
      wired.flatMap((w) => w.services),
      wired.flatMap((w) => w.optional ?? []),
      { clock, log, bus: this.bus },
    );
    this.pipe = pipe;
    this.sync = sync;
    this.health = monitoring.health;
  }

  /** Starts every service in order; on failure stops those already started and rethrows. */
  async start(): Promise<void> {
    await this.services.start();
    recordStart(this.config.storage.dir, this.deps.clock.now(), AGENT_VERSION, this.pipe.events);
    this.deps.log.info(
      { deviceId: this.config.device.id, epoch: this.pipe.outbox.epoch, version: AGENT_VERSION },
      'agent started',
    );
  }

  /** The critical services run and the outbox takes commits (or has none to take). */
  healthy(): boolean {
    return this.services.criticalUp && this.pipe.commits.healthy;
  }

  /** Stops in reverse order; one failing stop never keeps the others from running. */
  async stop(): Promise<void> {
    const clean = this.services.criticalUp;
    await this.services.stop();
    if (clean) recordCleanStop(this.config.storage.dir);
  }
}
