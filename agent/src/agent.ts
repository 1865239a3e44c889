import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Outbox } from './buffer/index.js';
import type { AgentConfig } from './config/index.js';
import {
  asError,
  type Clock,
  type Logger,
  type Random,
  type Sealer,
  type Service,
  Stream,
  type StreamName,
  streamName,
} from './core/index.js';
import { LocalSocket } from './diag/index.js';
import { DeviceIdentity, readPublicFile, readSecretFile } from './identity/index.js';
import { BUILD_FLOOR_MS, clockQuality, HealthSampler } from './monitor/index.js';
import { Batcher } from './pipeline/index.js';
import { Sync } from './sync/index.js';
import { seal } from './telemetry/index.js';
import { AGENT_VERSION } from './version.js';

/** What the composition root needs from the outside world; tests inject their own. */
export interface AgentDeps {
  clock: Clock;
  random: Random;
  log: Logger;
  /** Filesystem root for host facts (clock sync marker); `/` in production. */
  root?: string;
}

/**
 * The composition root: builds every service from the config, starts them in
 * dependency order and stops them in reverse. Reading it shows the architecture.
 */
export class Agent {
  readonly identity: DeviceIdentity;
  readonly outbox: Outbox;
  readonly batcher: Batcher;
  readonly sync: Sync;
  readonly agentSocket: LocalSocket;
  readonly health: HealthSampler;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });
  private readonly services: Service[];
  private started: Service[] = [];
  /** Items accepted (committed) since start, per stream. */
  readonly accepted: Record<StreamName, number> = { telemetry: 0, events: 0, reports: 0 };
  private readonly bootTime: number;

  constructor(
    readonly config: AgentConfig,
    private readonly deps: AgentDeps,
  ) {
    const { clock, random, log } = deps;
    this.bootTime = clock.now();
    this.identity = new DeviceIdentity(config.device.id, config.identity.signingKey);
    const sealer: Sealer = (stream, items, head) => {
      const id = this.identity.current;
      const now = clock.now();
      return seal(
        {
          deviceId: config.device.id,
          signingKey: id.privateKey,
          keyId: id.keyId,
          nowMs: now,
          clock: clockQuality(now, BUILD_FLOOR_MS, deps.root),
        },
        stream,
        items,
        head,
      );
    };
    this.outbox = new Outbox({
      file: join(config.storage.dir, 'outbox.db'),
      maxBytes: config.storage.maxBytes,
      minFreeBytes: config.storage.minFreeBytes,
      sealer,
      clock,
      random,
      log: log.child({ module: 'buffer' }),
    });
    const b = config.batching;
    this.batcher = new Batcher({
      policies: { [Stream.TELEMETRY]: b.telemetry, [Stream.EVENTS]: b.events, [Stream.REPORTS]: b.reports },
      commit: (requests) => {
        this.outbox.append(requests);
        for (const r of requests) this.accepted[streamName(r.stream)] += r.items.length;
        this.sync.kick();
      },
      clock,
      log: log.child({ module: 'pipeline' }),
    });
    this.sync = new Sync({
      deviceId: config.device.id,
      mqtt: config.mqtt,
      sync: config.sync,
      stateDir: config.storage.dir,
      tls: () => ({
        ca: readPublicFile(config.mqtt.ca),
        cert: readPublicFile(config.mqtt.cert),
        key: readSecretFile(config.mqtt.key),
      }),
      statusInfo: () => ({
        agentVersion: AGENT_VERSION,
        bootTime: new Date(this.bootTime).toISOString(),
        configVersion: 0,
        epoch: this.outbox.epoch,
      }),
      outbox: this.outbox,
      clock,
      random,
      log: log.child({ module: 'sync' }),
    });
    this.agentSocket = new LocalSocket({
      name: 'agent.sock',
      path: config.sockets.agent,
      mode: 0o660,
      maxLineBytes: config.ingest.maxLineBytes,
      ingest: (item) => this.batcher.submit([item]),
      commands: { status: () => this.status(), ping: () => ({ pong: true }) },
      now: () => clock.now(),
      log: log.child({ module: 'diag' }),
    });
    this.health = new HealthSampler({
      schedule: config.health.schedule,
      submit: (items) => this.batcher.submit(items),
      agentFigures: () => this.agentFigures(),
      clock,
      log: log.child({ module: 'monitor' }),
    });
    this.services = [this.identity, this.outbox, this.sync, this.batcher, this.agentSocket];
    if (config.health.enabled) this.services.push(this.health);
  }

  /** Starts every service in order; on failure stops those already started and rethrows. */
  async start(): Promise<void> {
    this.loopDelay.enable();
    for (const s of this.services) {
      try {
        await s.start();
      } catch (e) {
        this.deps.log.error({ err: e, service: s.name }, 'service failed to start');
        await this.stop();
        throw e;
      }
      this.started.push(s);
    }
    this.deps.log.info(
      { deviceId: this.config.device.id, epoch: this.outbox.epoch, version: AGENT_VERSION },
      'agent started',
    );
  }

  /** Stops in reverse order; one failing stop never keeps the others from running. */
  async stop(): Promise<void> {
    for (const s of this.started.reverse()) {
      try {
        await s.stop();
      } catch (e) {
        this.deps.log.error({ err: asError(e), service: s.name }, 'service failed to stop cleanly');
      }
    }
    this.started = [];
    this.loopDelay.disable();
  }

  /** The agent's own health figures, sampled with the gateway's. */
  agentFigures(): Record<string, number> {
    const lag = this.loopDelay.percentile(99) / 1e6;
    this.loopDelay.reset();
    const rows = this.outbox.stats().reduce((n, s) => n + s.pending.rows + s.sent.rows, 0);
    return { event_loop_lag_p99: Math.round(lag * 10) / 10, buffer_rows: rows };
  }

  /** What `edge-agent status` shows while the daemon runs. */
  status(): Record<string, unknown> {
    return {
      deviceId: this.config.device.id,
      agentVersion: AGENT_VERSION,
      bootTime: new Date(this.bootTime).toISOString(),
      epoch: this.outbox.epoch,
      running: true,
      buffer: {
        usedBytes: this.outbox.usedBytes(),
        maxBytes: this.config.storage.maxBytes,
        streams: this.outbox.stats(),
      },
      queued: this.batcher.queued(),
      accepted: this.accepted,
      link: this.sync.status(),
    };
  }
}
