import { join } from 'node:path';
import { readJsonState } from '../config/files.js';
import type { SyncStatus } from './service.js';

// Apart from service.ts so that `status` with the daemon stopped reads the file without
// loading the link, the drain and mqtt.js (a light entry, scripts/check-imports.ts).

export const SYNC_STATE_FILE = 'sync-state.json';

/** The last persisted link state, for `status` with the daemon stopped (null: none, or a corrupt file). */
export function readSyncState(stateDir: string): SyncStatus | null {
  const s = readJsonState<Record<string, unknown>>(join(stateDir, SYNC_STATE_FILE));
  if (typeof s !== 'object' || s === null) return null;
  const d = s.delivery as Record<string, unknown> | null | undefined;
  const e = s.lastError as Record<string, unknown> | null | undefined;
  const ok =
    typeof s.url === 'string' &&
    typeof s.state === 'string' &&
    typeof d === 'object' &&
    d !== null &&
    typeof d.inflight === 'number' &&
    typeof d.window === 'number' &&
    (e === null ||
      e === undefined ||
      (typeof e === 'object' && ['code', 'message', 'at'].every((k) => typeof e[k] === 'string')));
  return ok ? (s as unknown as SyncStatus) : null;
}
