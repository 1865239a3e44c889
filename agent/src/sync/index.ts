export { type AckRejection, type AckVerdict, AckVerifier, type AckVerifierOptions } from './ack-verifier.js';
export { Drain, type DrainClient, type DrainOptions, type DrainStats, MAX_ACK_WAIT_FACTOR } from './drain.js';
export { classify, LinkError, type LinkFailure } from './errors.js';
export { type Lease, Ledger, type LedgerStore, type RowState } from './ledger.js';
export {
  backoffDelay,
  type LinkState,
  MqttLink,
  retryDelay,
  STABLE_SESSION_MS,
  type TlsMaterial,
} from './link.js';
export { Sync, type SyncOptions, type SyncStatus } from './service.js';
export { readSyncState } from './state-file.js';
export { Topics } from './topics.js';
