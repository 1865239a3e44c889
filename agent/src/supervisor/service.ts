import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, type AgentDeps } from '../agent.js';
import {
  type AgentConfig,
  ConfigError,
  effectiveConfig,
  parseConfig,
  readJsonState,
  readRawConfig,
  writeJsonState,
} from '../config/index.js';
import type { TimerHandle } from '../core/index.js';
import { checkDocument, DocumentError, TrustStore } from '../trust/index.js';

interface Applied {
  version: number;
  settings: unknown;
  appliedAt: string;
  /** A connectivity change not yet confirmed by a session: rolled back if none comes in time, even across a restart. */
  pendingConfirm?: boolean;
}

/** Test hook: die at a named step of an apply, to prove the files are never left mixed. */
function crashPoint(step: string): void {
  if (process.env.EDGE_AGENT_CRASH_AT === step) process.kill(process.pid, 'SIGKILL');
}

type ConfigStatus = { version: number; state: 'applied' | 'rejected' | 'rolled_back'; reason?: string };

const CURRENT = 'remote-config.json';
const LAST_GOOD = 'remote-config.last-good.json';
const CONNECTIVITY: (keyof AgentConfig['mqtt'])[] = [
  'url',
  'ca',
  'cert',
  'key',
  'servername',
  'protocolVersion',
  'topicPrefix',
];

/**
 * Owns the running Agent and signed remote configuration: checks each document
 * (trust), applies a config atomically (temp file, fsync, rename) keeping the last
 * known good, rebuilds the agent with it (the outbox file stays as it is), and
 * rolls back a connectivity change that does not reach the collector in time.
 */
export class Supervisor {
  agent!: Agent;
  readonly stopRequested: Promise<string>;
  private requestStop!: (why: string) => void;
  private trust!: TrustStore;
  private raw: unknown;
  private local!: AgentConfig;
  private version = 0;
  private pending: ConfigStatus[] = [];
  private confirm: { version: number; timer: TimerHandle } | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly deps: Omit<AgentDeps, 'onDocument' | 'onUp' | 'configVersion'>,
  ) {
    this.stopRequested = new Promise((resolve) => {
      this.requestStop = resolve;
    });
  }

  private get dir(): string {
    return this.local.storage.dir;
  }

  async start(): Promise<void> {
    this.raw = readRawConfig(this.file);
    this.local = parseConfig(this.raw, this.file);
    this.trust = new TrustStore(this.dir, this.local.trust.rootKey);
    this.trust.load(true);
    const applied = readJsonState<Applied>(join(this.dir, CURRENT));
    let cfg = this.local;
    if (applied) {
      try {
        cfg = effectiveConfig(this.file, this.raw, applied.settings);
        this.version = applied.version;
      } catch (e) {
        this.deps.log.error(
          { err: e },
          'the stored remote config no longer validates: running on the local file',
        );
      }
    }
    await this.build(cfg);
    if (applied?.pendingConfirm && this.version === applied.version)
      this.armRollback(applied.version, this.previousOf(), cfg);
  }

  private previousOf(): number {
    return readJsonState<Applied>(join(this.dir, LAST_GOOD))?.version ?? 0;
  }

  private armRollback(version: number, previousVersion: number, cfg: AgentConfig): void {
    const timer = this.deps.clock.setTimeout(() => {
      this.queue = this.queue
        .then(() => this.rollback(version, previousVersion))
        .catch((err) => this.deps.log.error({ err, version }, 'rollback failed'));
    }, cfg.trust.rollbackAfterS * 1000);
    this.confirm = { version, timer };
  }

  /** What the systemd watchdog asks: the agent's critical parts work. */
  healthy(): boolean {
    return this.agent?.healthy() ?? false;
  }

  async stop(): Promise<void> {
    if (this.confirm) this.deps.clock.clearTimeout(this.confirm.timer);
    await this.queue;
    await this.agent.stop();
  }

  private async build(cfg: AgentConfig): Promise<void> {
    const agent = new Agent(cfg, {
      ...this.deps,
      configVersion: this.version,
      trust: this.trust,
      onDocument: ({ raw, topic }) => {
        this.queue = this.queue
          .then(() => this.onDocument(raw, topic === 'keys' ? 'keys' : undefined))
          .catch((err) => this.deps.log.error({ err }, 'remote document handling failed'));
      },
      onUp: () => this.onUp(),
    });
    this.agent = agent;
    await agent.start();
    void agent.stopRequested.then((why) => this.requestStop(why));
  }

  private async rebuild(cfg: AgentConfig): Promise<void> {
    await this.agent.stop();
    await this.build(cfg);
  }

  private async onDocument(raw: Buffer, topic?: 'keys'): Promise<void> {
    const cfg = this.agent.config;
    let accepted: ReturnType<typeof checkDocument>;
    try {
      accepted = checkDocument(raw, {
        store: this.trust,
        deviceId: cfg.device.id,
        groups: cfg.device.groups,
        nowMs: this.deps.clock.now(),
        clockTrusted: this.agent.pipe.clockMonitor.trusted(),
        maxBytes: cfg.trust.maxDocumentBytes,
        only: topic,
      });
    } catch (e) {
      if (!(e instanceof DocumentError)) throw e;
      if (e.code === 'DEFERRED') {
        this.deps.log.warn({ reason: e.message }, 'remote document deferred');
        return;
      }
      // The retained copy of a document already judged comes back on every connect: no news.
      if (!this.trust.noteRefused(e)) return;
      return this.reject(
        e.version ?? 0,
        `${e.code}: ${e.message}`,
        e.docType === 'keys' ? 'trust' : 'config',
      );
    }
    // A signed issuedAt is time evidence a LAN attacker cannot forge (DESIGN.md Time).
    this.agent.pipe.clockMonitor.raiseFloor(Date.parse(accepted.doc.issuedAt));
    if (accepted.type === 'keys') {
      const { rotated } = this.trust.applyKeys(accepted.doc);
      this.agent.bus.raise('trust.keys_rotated', 'keys', {
        version: String(accepted.doc.version),
        roles: rotated.join(','),
      });
      return;
    }
    const version = accepted.doc.version;
    let next: AgentConfig;
    try {
      next = effectiveConfig(this.file, this.raw, accepted.settings);
    } catch (e) {
      this.trust.markSeen('config', version);
      const why =
        e instanceof ConfigError ? e.issues.map((i) => `${i.path}: ${i.message}`).join('; ') : String(e);
      return this.reject(version, `SCHEMA: ${why}`, 'config');
    }
    const connectivity = CONNECTIVITY.some(
      (k) => JSON.stringify(next.mqtt[k]) !== JSON.stringify(this.agent.config.mqtt[k]),
    );
    // Each file is replaced atomically; the new one is written before the version counts
    // as seen, so a crash anywhere leaves the old config, or the new one (re-applied from
    // the retained document), never a mix.
    crashPoint('before-last-good');
    const prev = readJsonState<Applied>(join(this.dir, CURRENT));
    if (prev) writeJsonState(join(this.dir, LAST_GOOD), { ...prev, pendingConfirm: false });
    else rmSync(join(this.dir, LAST_GOOD), { force: true });
    crashPoint('after-last-good');
    writeJsonState(join(this.dir, CURRENT), {
      version,
      settings: accepted.settings,
      appliedAt: new Date(this.deps.clock.now()).toISOString(),
      pendingConfirm: connectivity,
    } satisfies Applied);
    crashPoint('after-current');
    this.trust.markSeen('config', version);
    const previousVersion = this.version;
    const previousConfig = this.agent.config;
    this.version = version;
    try {
      await this.rebuild(next);
    } catch (e) {
      // The agent must keep running on its last good state: back to the previous config at once.
      this.deps.log.error({ err: e, version }, 'the new config does not start: restoring the previous one');
      const last = readJsonState<Applied>(join(this.dir, LAST_GOOD));
      if (last) writeJsonState(join(this.dir, CURRENT), last);
      else rmSync(join(this.dir, CURRENT), { force: true });
      this.version = previousVersion;
      await this.build(previousConfig);
      return this.reject(version, `APPLY_FAILED: ${(e as Error).message}`, 'config');
    }
    crashPoint('after-rebuild');
    if (!connectivity) return this.applied(version);
    this.deps.log.warn(
      { version },
      'connectivity changed: rolling back unless the collector is reached in time',
    );
    this.armRollback(version, previousVersion, next);
  }

  private onUp(): void {
    if (this.confirm && this.agent.sync.connected) {
      this.deps.clock.clearTimeout(this.confirm.timer);
      const v = this.confirm.version;
      this.confirm = null;
      const cur = readJsonState<Applied>(join(this.dir, CURRENT));
      if (cur?.version === v) writeJsonState(join(this.dir, CURRENT), { ...cur, pendingConfirm: false });
      this.applied(v);
    }
    const queued = this.pending;
    this.pending = [];
    for (const s of queued) this.publish(s);
  }

  private applied(version: number): void {
    this.agent.bus.raise('config.applied', `v${version}`, { version: String(version) });
    this.publish({ version, state: 'applied' });
  }

  private reject(version: number, reason: string, what: 'config' | 'trust'): void {
    this.deps.log.warn({ version, reason }, 'remote document rejected');
    if (what === 'trust')
      this.agent.bus.raise('trust.document_rejected', `v${version}`, { version: String(version), reason });
    else this.agent.bus.raise('config.rejected', `v${version}`, { version: String(version), reason });
    this.publish({ version, state: 'rejected', reason });
  }

  private async rollback(version: number, previousVersion: number): Promise<void> {
    if (!this.confirm || this.confirm.version !== version) return;
    this.confirm = null;
    const last = readJsonState<Applied>(join(this.dir, LAST_GOOD));
    if (last) writeJsonState(join(this.dir, CURRENT), last);
    else rmSync(join(this.dir, CURRENT), { force: true });
    this.version = previousVersion;
    const cfg = last ? effectiveConfig(this.file, this.raw, last.settings) : this.local;
    this.deps.log.error({ version }, 'collector unreachable after a connectivity change: rolled back');
    await this.rebuild(cfg);
    const reason = `the collector was not reached within ${this.agent.config.trust.rollbackAfterS} s after the change`;
    this.agent.bus.raise('config.rolled_back', `v${version}`, { version: String(version), reason });
    this.publish({ version, state: 'rolled_back', reason });
  }

  /** Statuses wait for a session: a rolled-back change reports once connected again. */
  private publish(s: ConfigStatus): void {
    if (!this.agent.sync.publishJson('config/status', s)) this.pending.push(s);
  }
}
