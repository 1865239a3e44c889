import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ClockQuality } from '../core/index.js';

/** No batch can honestly be older than the code that sealed it: the lowest time floor. */
export const BUILD_FLOOR_MS = Date.UTC(2026, 10, 1);

/**
 * How far the wall clock can be trusted (DESIGN.md Time): below the floor it
 * is IMPLAUSIBLE; SYNCED when systemd-timesyncd says so; UNSYNCED otherwise.
 */
export function clockQuality(nowMs: number, floorMs: number, root = '/'): ClockQuality {
  if (nowMs < floorMs) return ClockQuality.IMPLAUSIBLE;
  return existsSync(join(root, 'run/systemd/timesync/synchronized'))
    ? ClockQuality.SYNCED
    : ClockQuality.UNSYNCED;
}
