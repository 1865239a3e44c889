import type { AuditService } from '../audit/index.js';
import type { StreamStats } from '../buffer/index.js';
import type { ClockQuality, StreamName } from '../core/index.js';
import type { SocketStats } from '../diag/index.js';
import type { IntegrityService } from '../integrity/index.js';
import type { SoftwareService, SoftwareSummary } from '../software/index.js';
import type { Sync, SyncStatus } from '../sync/index.js';
import { AGENT_VERSION } from '../version.js';
import type { DaemonCore } from './core.js';
import type { Pipeline } from './pipeline.js';
import type { CapabilityState, ServiceSet } from './services.js';

/**
 * What `edge-agent status` shows: one type for the daemon (which answers it on
 * agent.sock), the CLI (which prints it, or fills it from the data dir when the
 * daemon is stopped) and the tests (which read `status --json`).
 */
export interface AgentStatus {
  deviceId: string;
  running: boolean;
  epoch: number | null;
  agentVersion?: string;
  bootTime?: string;
  configVersion?: number;
  clock?: { quality: ClockQuality; trusted: boolean; floor: string };
  buffer?: {
    usedBytes?: number;
    maxBytes?: number;
    streams: StreamStats[];
    /** Why the outbox takes no commit now (its worker died); absent when it does. */
    fault?: { code: string; message: string };
    /** Batches and bytes sealed and waiting for the outbox worker's commit. */
    pending?: { batches: number; bytes: number };
    /** Rows of older epochs salvaged from a quarantined outbox file, still to deliver. */
    salvaged?: { rows: number; bytes: number };
  };
  /** Items waiting in the batcher, per stream. */
  queued?: Record<string, number>;
  /** Items committed since start, per stream. */
  accepted?: Record<StreamName, number>;
  eventsRaised?: number;
  integrity?: { checkedAt: string; changes: number; baseline: string } | null;
  audit?: { checkedAt: string; score: number; highFailures: string[] } | null;
  /** The gateway's own packages against the vulnerability feed in force (the last run). */
  software?: SoftwareSummary | null;
  link?: SyncStatus | null;
  /** Each capability's state; an optional one that failed is named here with its error code. */
  capabilities?: CapabilityState[];
  socket?: SocketStats;
  /** The device's key and certificate, read from their files by the CLI. */
  identity?: { keyId: string; certificate: { subject: string; validTo: string } | null } | null;
}

/** The parts of a running daemon its status is read from. */
export interface StatusSources {
  core: DaemonCore;
  pipe: Pipeline;
  sync: Sync;
  integrity: IntegrityService;
  audit: AuditService;
  software: SoftwareService;
  services: ServiceSet;
}

/** The running daemon's status (the socket adds its own figures). */
export function daemonStatus({
  core,
  pipe,
  sync,
  integrity,
  audit,
  software,
  services,
}: StatusSources): AgentStatus {
  const { config } = core;
  const ilast = integrity.last;
  const alast = audit.last;
  return {
    deviceId: config.device.id,
    agentVersion: AGENT_VERSION,
    bootTime: new Date(core.bootTime).toISOString(),
    epoch: pipe.outbox.epoch,
    running: true,
    configVersion: core.configVersion,
    clock: {
      quality: pipe.clockMonitor.quality(),
      trusted: pipe.clockMonitor.trusted(),
      floor: new Date(pipe.clockMonitor.floor).toISOString(),
    },
    buffer: {
      usedBytes: pipe.outbox.usedBytes(),
      maxBytes: config.storage.maxBytes,
      streams: pipe.outbox.stats((s) => sync.delivered(s)),
      pending: pipe.outbox.pending(),
      salvaged: pipe.outbox.salvage.held(),
      ...(pipe.outbox.fault && {
        fault: {
          code: (pipe.outbox.fault as { code?: string }).code ?? 'ERROR',
          message: pipe.outbox.fault.message,
        },
      }),
    },
    queued: pipe.batcher.queued(),
    accepted: pipe.accepted,
    eventsRaised: pipe.events.raised,
    integrity: ilast && {
      checkedAt: ilast.checkedAt,
      changes: ilast.changes.length,
      baseline: ilast.baselineDigest,
    },
    audit: alast && { checkedAt: alast.checkedAt, score: alast.score, highFailures: alast.highFailures },
    software: software.summary(),
    link: sync.status(),
    capabilities: services.states(),
  };
}
