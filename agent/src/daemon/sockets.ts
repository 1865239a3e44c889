import type { Service } from '../core/index.js';
import { Stream } from '../core/index.js';
import { LocalSocket } from '../diag/index.js';
import type { CertRenewal } from '../identity/index.js';
import type { WipeReport } from '../privacy/index.js';
import type { Sync } from '../sync/index.js';
import type { DaemonCore, Wired } from './core.js';
import type { Intake } from './intake.js';
import type { Monitoring } from './monitoring.js';
import type { Pipeline } from './pipeline.js';
import type { AgentStatus } from './status.js';
import { technicianOf } from './wipe.js';

/** What the local sockets reach of the rest of the daemon. */
export interface SocketReach {
  pipe: Pipeline;
  sync: Sync;
  certs: CertRenewal;
  monitoring: Monitoring;
  intake: Intake;
  status: () => AgentStatus;
  wipe: (technician: string) => Promise<WipeReport>;
}

/** The local sockets: agent.sock (ingest, read-only answers) for sensors, admin.sock (0600) for technicians. */
export function wireSockets(core: DaemonCore, reach: SocketReach): Wired<{ admin: Service }> {
  const { config, clock, log } = core;
  const common = {
    maxLineBytes: config.ingest.maxLineBytes,
    clock,
    log: log.child({ module: 'diag' }),
  };
  const agentSocket: LocalSocket = new LocalSocket({
    ...common,
    name: 'agent.sock',
    path: config.sockets.agent,
    mode: 0o660,
    ingest: reach.intake.ingest,
    readOnly: true,
    commands: {
      status: () => ({ ...reach.status(), socket: agentSocket.stats() }),
      ping: () => ({ pong: true }),
      'privacy-report': () => reach.intake.report(),
    },
  });
  const admin = new LocalSocket({
    ...common,
    name: 'admin.sock',
    path: config.sockets.admin,
    mode: 0o600,
    commands: adminCommands(core, reach),
  });
  return { admin, services: [agentSocket, admin] };
}

/** The technician's commands: each one is raised as `technician.command` first. */
function adminCommands(core: DaemonCore, reach: SocketReach) {
  const { bus, clock } = core;
  const { sync, certs } = reach;
  return {
    wipe: (args: Record<string, unknown>) => reach.wipe(technicianOf(args)),
    'sync-now': (args: Record<string, unknown>) => {
      bus.raise('technician.command', technicianOf(args), { command: 'sync-now' });
      sync.syncNow();
      return { connected: sync.connected, link: sync.status().state };
    },
    rotate: async (args: Record<string, unknown>) => {
      bus.raise('technician.command', technicianOf(args), { command: 'identity rotate' });
      return { requested: await certs.renewNow() };
    },
    maintenance: (args: Record<string, unknown>) => {
      const technician = technicianOf(args);
      const minutes = Number(args.minutes);
      if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60)
        throw new Error('minutes: must be between 1 and 1440');
      reach.monitoring.door?.announceMaintenance(minutes, technician);
      bus.raise('technician.command', technician, { command: 'maintenance', minutes: String(minutes) });
      return { until: new Date(clock.now() + minutes * 60_000).toISOString() };
    },
    commissioning: async (args: Record<string, unknown>) => {
      const body = Buffer.from(String(args.body ?? ''), 'base64');
      if (body.length === 0 || body.length > 200_000)
        throw new Error('body: a commissioning report of 1 to 200000 bytes is required');
      JSON.parse(body.toString('utf8'));
      await bus.submit([
        { stream: Stream.REPORTS, report: { kind: 'commissioning', contentType: 'application/json', body } },
      ]);
      return { queued: true };
    },
  };
}
