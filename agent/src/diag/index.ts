export { DaemonUnreachableError, request } from './client.js';
export { type IngestResult, parseIngestLine } from './ingest.js';
export { LineSplitter } from './lines.js';
export { type CommandHandler, LocalSocket, type LocalSocketOptions } from './socket-server.js';
