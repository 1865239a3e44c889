export { DaemonUnreachableError, request } from './client.js';
export { type IngestResult, parseIngestLine } from './ingest.js';

export { type CommandHandler, LocalSocket, type LocalSocketOptions } from './socket-server.js';
export { SystemdNotifier } from './systemd.js';
