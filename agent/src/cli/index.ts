import type { Io } from './io.js';

export { UsageError } from './args.js';
export { type Io, println, processIo } from './io.js';

export type Command = (args: string[], io: Io) => Promise<number>;

/**
 * Each command's module, imported when that command runs. A command loads
 * only what it uses: `status` answers in tens of milliseconds while `run`
 * needs the whole daemon and `sbom` CycloneDX (#12: importing every command
 * up front cost 400 ms, `edge-agent --help` included).
 */
export const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  run: async () => (await import('./run.js')).runCommand,
  ingest: async () => (await import('./ingest.js')).ingestCommand,
  status: async () => (await import('./status.js')).statusCommand,
  identity: async () => (await import('./identity.js')).identityCommand,
  config: async () => (await import('./config.js')).configCommand,
  privacy: async () => (await import('./privacy.js')).privacyCommand,
  audit: async () => (await import('./audit.js')).auditCommand,
  integrity: async () => (await import('./integrity.js')).integrityCommand,
  inventory: async () => (await import('./inventory.js')).inventoryCommand,
  sbom: async () => (await import('./sbom.js')).sbomCommand,
  logs: async () => (await import('./logs.js')).logsCommand,
  doctor: async () => (await import('./doctor.js')).doctorCommand,
  enroll: async () => (await import('./enroll.js')).enrollCommand,
  maintenance: async () => (await import('./maintenance.js')).maintenanceCommand,
  wipe: async () => (await import('./wipe.js')).wipeCommand,
  'sync-now': async () => (await import('./sync-now.js')).syncNowCommand,
};
