import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { AuditService, auditContext } from './audit/index.js';
import { Outbox, Retention } from './buffer/index.js';
import type { AgentConfig } from './config/index.js';
import {
  asError,
  type Clock,
  type Logger,
  type Random,
  type Sealer,
  type Service,
  Stream,
  type StreamItem,
  type StreamName,
  streamName,
} from './core/index.js';
import { LocalSocket } from './diag/index.js';
import {
  CertRenewal,
  DeviceIdentity,
  readPublicFile,
  readSecretFile,
  signedNotBefore,
} from './identity/index.js';
import { IntegrityService } from './integrity/index.js';
import {
  AuthMonitor,
  BufferPressure,
  ClockMonitor,
  DoorMonitor,
  EventReporter,
  FileTail,
  HealthSampler,
  JournalSource,
  ListenerMonitor,
  parseAuthMessage,
  parseJournalLine,
  recordCleanStop,
  recordStart,
} from './monitor/index.js';
import { Batcher } from './pipeline/index.js';
import { PrivacyEngine, rulesFor, type WipeReport, wipeFiles } from './privacy/index.js';
import { SensorService } from './sensors/index.js';
import { SoftwareService } from './software/index.js';
import { Sync } from './sync/index.js';
import { seal } from './telemetry/index.js';
import { TrustStore } from './trust/index.js';
import { AGENT_VERSION } from './version.js';

/** What the composition root needs from the outside world; tests inject their own. */
export interface AgentDeps {
  clock: Clock;
  random: Random;
  log: Logger;
  /** A signed document arrived on the `config` (or the retained `keys`) topic; the supervisor decides. */
  onDocument?: (raw: Buffer, topic?: 'keys') => void;
  /** The supervisor's trust store (role keys, floors); without one the agent reads the data dir's. */
  trust?: TrustStore;
  /** The link to the broker came up. */
  onUp?: () => void;
  /** Version of the remote config in force, for the status messages. */
  configVersion?: number;
}

/** A service made of a start and a stop function (small periodic jobs). */
const task = (name: string, start: () => void, stop: () => void): Service => ({
  name,
  start: async () => start(),
  stop: async () => stop(),
});

/**
 * The composition root: builds every service from the config, starts them in
 * dependency order and stops them in reverse. Reading it shows the architecture:
 * sources → privacy → batcher → seal → outbox ⇢ sync → collector.
 */
export class Agent {
  readonly identity: DeviceIdentity;
  readonly outbox: Outbox;
  readonly batcher: Batcher;
  readonly events: EventReporter;
  readonly clockMonitor: ClockMonitor;
  readonly privacy: PrivacyEngine;
  readonly sync: Sync;
  readonly health: HealthSampler;
  readonly door: DoorMonitor | undefined;
  readonly integrity: IntegrityService;
  readonly certs: CertRenewal;
  readonly sensors: SensorService;
  readonly audit: AuditService;
  readonly software: SoftwareService;
  /** Items accepted (committed) since start, per stream. */
  readonly accepted: Record<StreamName, number> = { telemetry: 0, events: 0, reports: 0 };
  /** Readings a privacy rule dropped whole. */
  dropped = 0;
  /** Resolves when the agent asks to be stopped (after a wipe). */
  readonly stopRequested: Promise<string>;
  private requestStop!: (why: string) => void;
  private readonly services: Service[];
  private started: Service[] = [];
  private readonly bootTime: number;
  private readonly sensorsSeen = new Set<string>();
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });
  private ownTrust: TrustStore | undefined;

  constructor(
    readonly config: AgentConfig,
    private readonly deps: AgentDeps,
  ) {
    const { clock, random, log } = deps;
    const dir = config.storage.dir;
    this.bootTime = clock.now();
    this.stopRequested = new Promise((resolve) => {
      this.requestStop = resolve;
    });
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
          clock: this.clockMonitor.quality(),
        },
        stream,
        items,
        head,
      );
    };
    this.outbox = new Outbox({
      file: join(dir, 'outbox.db'),
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
    const m = config.monitor;
    this.events = new EventReporter({
      submit: (items) => this.batcher.submit(items),
      aggregateMs: m.aggregateS * 1000,
      clock,
      log: log.child({ module: 'events' }),
    });
    this.clockMonitor = new ClockMonitor({
      clock,
      reporter: this.events,
      stateDir: dir,
      root: m.root,
      maxForwardJumpMs: m.clock.maxForwardJumpS * 1000,
      intervalMs: m.clock.intervalS * 1000,
      evidence: () => [
        evidenceOf(() => signedNotBefore(readPublicFile(config.mqtt.cert), readPublicFile(config.mqtt.ca))),
      ],
    });
    const p = config.privacy;
    this.privacy = new PrivacyEngine({
      rules: p.rules,
      rotation: p.pseudonymRotation,
      platformPublicKey: p.platformPublicKey ? Buffer.from(p.platformPublicKey, 'base64') : undefined,
      dir: join(dir, 'privacy'),
      clock,
      random,
      clockTrusted: () => this.clockMonitor.trusted(),
    });
    this.sync = new Sync({
      deviceId: config.device.id,
      mqtt: config.mqtt,
      sync: config.sync,
      maxDocumentBytes: config.trust.maxDocumentBytes,
      stateDir: dir,
      tls: () => ({
        ca: readPublicFile(config.mqtt.ca),
        cert: readPublicFile(config.mqtt.cert),
        key: readSecretFile(config.mqtt.key),
      }),
      statusInfo: () => ({
        agentVersion: AGENT_VERSION,
        bootTime: new Date(this.bootTime).toISOString(),
        configVersion: deps.configVersion ?? 0,
        epoch: this.outbox.epoch,
      }),
      outbox: this.outbox,
      onDocument: deps.onDocument,
      documents: { vulnerabilities: (raw) => this.software.onFeedDocument(raw) },
      onUp: () => {
        this.certs.onUp();
        deps.onUp?.();
      },
      onCertIssued: (pem) => this.certs.onIssued(pem),
      collectorKeys: () => this.trust().keysOf('collector'),
      raise: (type, subject, details) => this.events.raise(type, subject, details),
      clock,
      random,
      log: log.child({ module: 'sync' }),
    });
    const retention = new Retention({
      outbox: this.outbox,
      hours: p.retentionHours,
      clockTrusted: () => this.clockMonitor.trusted(),
      clock,
      log: log.child({ module: 'buffer' }),
    });
    const pressure = new BufferPressure(this.events);
    let pressureTimer: NodeJS.Timeout | undefined;
    const pressureTask = task(
      'buffer-pressure',
      () => {
        pressureTimer = setInterval(
          () => pressure.check(this.outbox.usedBytes(), config.storage.maxBytes),
          10_000,
        );
        pressureTimer.unref();
      },
      () => clearInterval(pressureTimer),
    );
    const monitorLog = log.child({ module: 'monitor' });
    const auth = new AuthMonitor({
      reporter: this.events,
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
          ? new FileTail(join(m.root, m.auth.file), onAuthLine(false), monitorLog)
          : undefined;
    const listeners = new ListenerMonitor({
      root: m.root,
      allow: m.listeners.allow,
      intervalMs: m.listeners.intervalS * 1000,
      reporter: this.events,
    });
    this.door = m.door
      ? new DoorMonitor({
          path: join(m.root, m.door.path),
          openValue: m.door.openValue,
          reporter: this.events,
          clock,
        })
      : undefined;
    this.health = new HealthSampler({
      schedule: config.health.schedule,
      submit: (items) => this.batcher.submit(items),
      agentFigures: () => this.agentFigures(),
      clock,
      log: monitorLog,
    });
    const raise = this.events.raise.bind(this.events);
    this.certs = new CertRenewal({
      deviceId: config.device.id,
      certFile: config.mqtt.cert,
      keyFile: config.mqtt.key,
      caFile: config.mqtt.ca,
      stateDir: dir,
      renewAt: config.identity.renewAt,
      signing: () => this.identity.current,
      clockTrusted: () => this.clockMonitor.trusted(),
      sendCsr: (payload) => this.sync.publishJson('cert/csr', JSON.parse(payload)),
      reconnect: () => this.sync.reconnect(),
      linkError: () => this.sync.status().lastError?.code ?? null,
      raise,
      clock,
      log: log.child({ module: 'identity' }),
    });
    const submit = (items: StreamItem[]) => this.batcher.submit(items);
    this.integrity = new IntegrityService({
      schedule: config.integrity.schedule,
      baselineFile: config.integrity.baselineFile,
      root: m.root,
      publicKey: () => this.identity.current.publicKey,
      raise,
      submit,
      clock,
      log: log.child({ module: 'integrity' }),
    });
    this.audit = new AuditService({
      schedule: config.audit.schedule,
      context: () => auditContext(m.root, config),
      stateDir: dir,
      raise,
      submit,
      clock,
      log: log.child({ module: 'audit' }),
    });
    this.sensors = new SensorService({
      root: m.root,
      schedule: config.sensors.schedule,
      declared: config.sensors.declared,
      bundleFile: config.sensors.profilesBundle,
      stateDir: dir,
      trust: () => {
        const t = new TrustStore(dir, config.trust.rootKey);
        t.load();
        return t;
      },
      audience: () => ({
        deviceId: config.device.id,
        groups: config.device.groups,
        nowMs: clock.now(),
        clockTrusted: this.clockMonitor.trusted(),
      }),
      raise,
      submit,
      clock,
      log: log.child({ module: 'sensors' }),
    });
    this.software = softwareService(config, deps, raise, submit, () => this.trust());
    const agentSocket: LocalSocket = new LocalSocket({
      name: 'agent.sock',
      path: config.sockets.agent,
      mode: 0o660,
      maxLineBytes: config.ingest.maxLineBytes,
      ingest: (item) => this.ingest(item),
      readOnly: true,
      commands: {
        status: () => ({ ...this.status(), socket: agentSocket.stats() }),
        ping: () => ({ pong: true }),
        'privacy-report': () => this.privacyReport(),
      },
      now: () => clock.now(),
      log: log.child({ module: 'diag' }),
    });
    const adminSocket = new LocalSocket({
      name: 'admin.sock',
      path: config.sockets.admin,
      mode: 0o600,
      maxLineBytes: config.ingest.maxLineBytes,
      commands: {
        wipe: (args) => this.wipe(technicianOf(args)),
        'sync-now': (args) => {
          this.events.raise('technician.command', technicianOf(args), { command: 'sync-now' });
          this.outbox.rewind();
          this.sync.kick();
          return { connected: this.sync.connected, link: this.sync.status().state };
        },
        rotate: async (args) => {
          this.events.raise('technician.command', technicianOf(args), { command: 'identity rotate' });
          return { requested: await this.certs.renewNow() };
        },
        maintenance: (args) => this.maintenance(technicianOf(args), Number(args.minutes)),
        commissioning: async (args) => {
          const body = Buffer.from(String(args.body ?? ''), 'base64');
          if (body.length === 0 || body.length > 200_000)
            throw new Error('body: a commissioning report of 1 to 200000 bytes is required');
          JSON.parse(body.toString('utf8'));
          await this.batcher.submit([
            {
              stream: Stream.REPORTS,
              report: { kind: 'commissioning', contentType: 'application/json', body },
            },
          ]);
          return { queued: true };
        },
      },
      now: () => clock.now(),
      log: log.child({ module: 'diag' }),
    });
    this.services = [
      this.identity,
      this.outbox,
      this.batcher,
      this.events,
      this.clockMonitor,
      this.privacy,
      this.sync,
      this.certs,
      retention,
      pressureTask,
      auth,
      ...(authSource ? [authSource] : []),
      ...(m.listeners.enabled ? [listeners] : []),
      ...(this.door ? [this.door] : []),
      ...(config.health.enabled ? [this.health] : []),
      this.integrity,
      ...(config.sensors.enabled ? [this.sensors] : []),
      ...(config.software.enabled ? [this.software] : []),
      ...(config.audit.enabled ? [this.audit] : []),
      agentSocket,
      adminSocket,
    ];
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
    recordStart(this.config.storage.dir, this.deps.clock.now(), AGENT_VERSION, this.events);
    this.deps.log.info(
      { deviceId: this.config.device.id, epoch: this.outbox.epoch, version: AGENT_VERSION },
      'agent started',
    );
  }

  /** Stops in reverse order; one failing stop never keeps the others from running. */
  async stop(): Promise<void> {
    const clean = this.started.length === this.services.length;
    for (const s of this.started.reverse()) {
      try {
        await s.stop();
      } catch (e) {
        this.deps.log.error({ err: asError(e), service: s.name }, 'service failed to stop cleanly');
      }
    }
    this.started = [];
    this.loopDelay.disable();
    if (clean) recordCleanStop(this.config.storage.dir);
  }

  /** A reading from the ingest socket: privacy rules first, then the batcher. */
  private ingest(item: StreamItem): Promise<void> {
    if (!('reading' in item)) return this.batcher.submit([item]);
    if (this.sensorsSeen.size < 1000) this.sensorsSeen.add(item.reading.sensorId);
    const r = this.privacy.apply(item.reading);
    if (!r) {
      this.dropped++;
      return Promise.resolve();
    }
    return this.batcher.submit([{ stream: Stream.TELEMETRY, reading: r }]);
  }

  /** The trust store in force: the supervisor's, or (a bare agent) the data dir's, read once. */
  private trust(): TrustStore {
    if (this.deps.trust) return this.deps.trust;
    if (!this.ownTrust) {
      this.ownTrust = new TrustStore(this.config.storage.dir, this.config.trust.rootKey);
      this.ownTrust.load();
    }
    return this.ownTrust;
  }

  /** The agent's own health figures, sampled with the gateway's. */
  agentFigures(): Record<string, number> {
    const lag = this.loopDelay.percentile(99) / 1e6;
    this.loopDelay.reset();
    const rows = this.outbox.stats().reduce((n, s) => n + s.pending.rows + s.sent.rows, 0);
    return { event_loop_lag_p99: Math.round(lag * 10) / 10, buffer_rows: rows };
  }

  /** Which privacy rules apply to which of the sensors seen since start. */
  privacyReport(): {
    rules: AgentConfig['privacy']['rules'];
    sensors: { sensor: string; rules: number[] }[];
    dropped: number;
  } {
    const rules = this.config.privacy.rules;
    const sensors = [...this.sensorsSeen]
      .sort()
      .map((sensor) => ({ sensor, rules: rulesFor(rules, sensor).map((r) => rules.indexOf(r)) }));
    return { rules, sensors, dropped: this.dropped };
  }

  private maintenance(technician: string, minutes: number): { until: string } {
    if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60)
      throw new Error('minutes: must be between 1 and 1440');
    this.door?.announceMaintenance(minutes, technician);
    this.events.raise('technician.command', technician, { command: 'maintenance', minutes: String(minutes) });
    return { until: new Date(this.deps.clock.now() + minutes * 60_000).toISOString() };
  }

  /**
   * Erases the buffer, the pseudonymisation key and the device keys, then stops
   * the agent (it cannot sign anything any more).
   */
  private async wipe(technician: string): Promise<WipeReport> {
    this.deps.log.warn({ technician }, 'wipe requested');
    for (const s of [...this.started].reverse()) {
      if (s.name === 'admin.sock') continue;
      try {
        await s.stop();
      } catch (e) {
        this.deps.log.error({ err: asError(e), service: s.name }, 'service failed to stop for the wipe');
      }
    }
    this.started = this.started.filter((s) => s.name === 'admin.sock');
    this.privacy.key.destroy();
    const report = wipeFiles(wipeTargets(this.config));
    this.deps.log.warn({ technician, erased: report.erased.length }, 'wiped');
    setTimeout(() => this.requestStop('wiped'), 100).unref();
    return report;
  }

  /** What `edge-agent status` shows while the daemon runs. */
  status(): Record<string, unknown> {
    return {
      deviceId: this.config.device.id,
      agentVersion: AGENT_VERSION,
      bootTime: new Date(this.bootTime).toISOString(),
      epoch: this.outbox.epoch,
      running: true,
      configVersion: this.deps.configVersion ?? 0,
      clock: {
        quality: this.clockMonitor.quality(),
        trusted: this.clockMonitor.trusted(),
        floor: new Date(this.clockMonitor.floor).toISOString(),
      },
      buffer: {
        usedBytes: this.outbox.usedBytes(),
        maxBytes: this.config.storage.maxBytes,
        streams: this.outbox.stats(),
      },
      queued: this.batcher.queued(),
      accepted: this.accepted,
      eventsRaised: this.events.raised,
      integrity: this.integrity.last && {
        checkedAt: this.integrity.last.checkedAt,
        changes: this.integrity.last.changes.length,
        baseline: this.integrity.last.baselineDigest,
      },
      audit: this.audit.last && {
        checkedAt: this.audit.last.checkedAt,
        score: this.audit.last.score,
        highFailures: this.audit.last.highFailures,
      },
      link: this.sync.status(),
    };
  }
}

/** A piece of time evidence, or nothing when its files cannot be read (the floor keeps what it has). */
function evidenceOf(read: () => number | undefined): number | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** The gateway's own software and its vulnerabilities (feed from the file or the retained `vulnerabilities` topic). */
function softwareService(
  config: AgentConfig,
  deps: AgentDeps,
  raise: EventReporter['raise'],
  submit: (items: StreamItem[]) => Promise<void>,
  trust: () => TrustStore,
): SoftwareService {
  return new SoftwareService({
    root: config.monitor.root,
    schedule: config.software.schedule,
    feedFile: config.software.feed,
    stateDir: config.storage.dir,
    deviceId: config.device.id,
    agentVersion: AGENT_VERSION,
    // The one store in force, so the feed's version floor and a key rotation never overwrite each other.
    trust,
    raise,
    submit,
    clock: deps.clock,
    random: deps.random,
    log: deps.log.child({ module: 'software' }),
  });
}

/** The technician named by the CLI (SUDO_USER or the login name); bounded, printable. */
function technicianOf(args: Record<string, unknown>): string {
  const t = typeof args.technician === 'string' ? args.technician : 'unknown';
  return t.replace(/[^A-Za-z0-9._@-]/g, '?').slice(0, 64) || 'unknown';
}

/** Everything `wipe` erases, by what it is. */
export function wipeTargets(cfg: AgentConfig): { what: string; path: string }[] {
  const d = cfg.storage.dir;
  return [
    { what: 'buffer', path: join(d, 'outbox.db') },
    { what: 'inventory', path: join(d, 'inventory.db') },
    { what: 'pseudonymisation key', path: join(d, 'privacy', 'pseudonym.key') },
    { what: 'device signing key', path: cfg.identity.signingKey },
    { what: 'device TLS key', path: cfg.mqtt.key },
    { what: 'certificate signing request', path: cfg.identity.csr },
    { what: 'link state', path: join(d, 'sync-state.json') },
  ];
}
