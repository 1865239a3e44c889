import { join } from 'node:path';
import { Outbox, Retention } from '../buffer/index.js';
import type { AgentConfig } from '../config/index.js';
import { asError, type Sealer, Stream, type StreamItem, type StreamName, streamName } from '../core/index.js';
import { DeviceIdentity, readPublicFile, signedNotBefore } from '../identity/index.js';
import { ClockMonitor, EventReporter } from '../monitor/index.js';
import { Batcher, type Commit } from '../pipeline/index.js';
import { PrivacyEngine } from '../privacy/index.js';
import { seal } from '../telemetry/index.js';
import type { Bus } from './bus.js';
import type { DaemonCore, Wired } from './core.js';

/** The critical path: sources → privacy → batcher → seal → outbox, and the events stream into it. */
export interface Pipeline {
  identity: DeviceIdentity;
  outbox: Outbox;
  batcher: Batcher;
  events: EventReporter;
  clockMonitor: ClockMonitor;
  privacy: PrivacyEngine;
  /** Items accepted (committed) since start, per stream. */
  accepted: Record<StreamName, number>;
  commits: CommitHealth;
}

export function wirePipeline(core: DaemonCore): Wired<Pipeline> {
  const { config, clock, random, log, bus } = core;
  const dir = config.storage.dir;
  const accepted: Record<StreamName, number> = { telemetry: 0, events: 0, reports: 0 };
  const commits = new CommitHealth();
  const m = config.monitor;
  const events = new EventReporter({
    submit: bus.submit,
    aggregateMs: m.aggregateS * 1000,
    clock,
    log: log.child({ module: 'events' }),
  });
  bus.on('raise', (e) => events.raise(e.type, e.subject, e.details, e.severity));
  const clockMonitor = new ClockMonitor({
    clock,
    reporter: events,
    stateDir: dir,
    root: m.root,
    maxForwardJumpMs: m.clock.maxForwardJumpS * 1000,
    intervalMs: m.clock.intervalS * 1000,
    evidence: () => [
      evidenceOf(() => signedNotBefore(readPublicFile(config.mqtt.cert), readPublicFile(config.mqtt.ca))),
    ],
  });
  const identity = new DeviceIdentity(config.device.id, config.identity.signingKey);
  const outbox = new Outbox({
    file: join(dir, 'outbox.db'),
    maxBytes: config.storage.maxBytes,
    minFreeBytes: config.storage.minFreeBytes,
    sealer: sealerFor(config, identity, clockMonitor, clock.now),
    clock,
    random,
    log: log.child({ module: 'buffer' }),
    // Reaches the collector once the outbox takes commits again (the worker restarted, or the new epoch).
    onFault: (e) => bus.raise('agent.capability_failed', 'buffer', { capability: 'buffer', code: codeOf(e) }),
  });
  commits.outboxFault = () => outbox.fault;
  const b = config.batching;
  const batcher = new Batcher({
    policies: { [Stream.TELEMETRY]: b.telemetry, [Stream.EVENTS]: b.events, [Stream.REPORTS]: b.reports },
    commit: committerTo(outbox, accepted, bus, commits),
    clock,
    log: log.child({ module: 'pipeline' }),
  });
  bus.serve((items: StreamItem[]) => batcher.submit(items));
  const p = config.privacy;
  const privacy = new PrivacyEngine({
    rules: p.rules,
    rotation: p.pseudonymRotation,
    platformPublicKey: p.platformPublicKey ? Buffer.from(p.platformPublicKey, 'base64') : undefined,
    dir: join(dir, 'privacy'),
    clock,
    random,
    clockTrusted: () => clockMonitor.trusted(),
  });
  const retention = new Retention({
    outbox,
    hours: p.retentionHours,
    clock,
    log: log.child({ module: 'buffer' }),
  });
  return {
    identity,
    outbox,
    batcher,
    events,
    clockMonitor,
    privacy,
    accepted,
    commits,
    services: [identity, outbox, batcher, events, clockMonitor, privacy, retention],
  };
}

/** Whether the outbox takes commits: what the watchdog asks of the pipeline. */
export class CommitHealth {
  lastError: Error | null = null;
  /** Why the outbox takes no commit now (its worker died and is not back yet). */
  outboxFault: () => Error | null = () => null;

  /**
   * True unless the last commit failed or the outbox worker is down. A full disk does
   * not count: the outbox refusing then is it working (a restart would not free a byte).
   */
  get healthy(): boolean {
    if (this.outboxFault() !== null) return false;
    return this.lastError === null || codeOf(this.lastError) === 'BUFFER_DISK_FULL';
  }
}

const codeOf = (e: Error): string => (e as { code?: string }).code ?? 'ERROR';

/** Seals each batch with the device's current key, stamped with the clock's quality. */
function sealerFor(
  config: AgentConfig,
  identity: DeviceIdentity,
  clockMonitor: ClockMonitor,
  now: () => number,
): Sealer {
  return function sealBatch(stream, items, head) {
    const id = identity.current;
    return seal(
      {
        deviceId: config.device.id,
        signingKey: id.privateKey,
        keyId: id.keyId,
        nowMs: now(),
        clock: clockMonitor.quality(),
      },
      stream,
      items,
      head,
    );
  };
}

/** Commits a closed batch to the outbox, counts it, and tells the uplink there is something to send. */
function committerTo(
  outbox: Outbox,
  accepted: Record<StreamName, number>,
  bus: Bus,
  health: CommitHealth,
): Commit {
  return async function commit(requests) {
    try {
      await outbox.append(requests);
      health.lastError = null;
    } catch (e) {
      // A refusal at the worker's bound is back-pressure, not a failing medium.
      if ((e as { code?: string }).code !== 'BUFFER_BUSY') health.lastError = asError(e);
      throw e;
    }
    let items = 0;
    for (const r of requests) {
      accepted[streamName(r.stream)] += r.items.length;
      items += r.items.length;
    }
    bus.emit('committed', { items });
  };
}

/** A piece of time evidence, or nothing when its files cannot be read (the floor keeps what it has). */
function evidenceOf(read: () => number | undefined): number | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
