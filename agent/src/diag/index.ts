export { DaemonUnreachableError, request } from './client.js';
export { type IngestResult, parseIngestLine } from './ingest.js';

export {
  CLOSE_GRACE_MS,
  type CommandHandler,
  LocalSocket,
  type LocalSocketOptions,
  MAX_CONNECTIONS,
  MAX_LINES_IN_FLIGHT,
  MAX_UNSENT_REPLY_BYTES,
  READ_CACHE_MAX_MS,
  READ_CACHE_MIN_MS,
  type SocketStats,
} from './socket-server.js';
export { SystemdNotifier } from './systemd.js';
