import { join } from 'node:path';
import { readJsonState, writeJsonState } from '../config/index.js';
import type { EventReporter } from './reporter.js';

const FILE = 'lifecycle.json';
/** This many starts within the window is a crash loop. */
export const CRASH_LOOP_STARTS = 5;
export const CRASH_LOOP_WINDOW_MS = 10 * 60_000;

interface Lifecycle {
  starts: number[];
  total: number;
  cleanStop: boolean;
}

/**
 * Records a start and raises `agent.started` (with the restart count and whether
 * the previous run ended cleanly) and `agent.crash_loop` when starts pile up.
 */
export function recordStart(
  stateDir: string,
  nowMs: number,
  version: string,
  reporter: EventReporter,
): { restarts: number; crashLoop: boolean } {
  const prev = readJsonState<Lifecycle>(join(stateDir, FILE)) ?? { starts: [], total: 0, cleanStop: true };
  const starts = [...(Array.isArray(prev.starts) ? prev.starts : []), nowMs].slice(-20);
  const recent = starts.filter((t) => nowMs - t >= 0 && nowMs - t <= CRASH_LOOP_WINDOW_MS).length;
  const total = (Number.isSafeInteger(prev.total) ? prev.total : 0) + 1;
  // Bookkeeping only: a full SD card must not stop the start (the write threw after every
  // service had started, and the daemon ran on half started). The event says it was not recorded.
  const recorded = tryWrite(stateDir, { starts, total, cleanStop: false });
  reporter.raise('agent.started', 'agent', {
    version,
    restarts: String(total - 1),
    previous_stop: prev.cleanStop === false ? 'unclean' : 'clean',
    ...(recorded ? {} : { recorded: 'no' }),
  });
  const crashLoop = recent >= CRASH_LOOP_STARTS;
  if (crashLoop)
    reporter.raise('agent.crash_loop', 'agent', {
      starts: String(recent),
      window_s: String(CRASH_LOOP_WINDOW_MS / 1000),
    });
  return { restarts: total - 1, crashLoop };
}

/** Marks the run as ended cleanly. */
export function recordCleanStop(stateDir: string): void {
  const prev = readJsonState<Lifecycle>(join(stateDir, FILE));
  // Unwritable (disk full): the next start reports this stop as unclean, which is all it costs.
  if (prev) tryWrite(stateDir, { ...prev, cleanStop: true });
}

function tryWrite(stateDir: string, value: Lifecycle): boolean {
  try {
    writeJsonState(join(stateDir, FILE), value);
    return true;
  } catch {
    return false;
  }
}

/** `buffer.pressure` with hysteresis: raised at 90 % of the byte budget, cleared at 70 %. */
export class BufferPressure {
  private high = false;

  constructor(private readonly reporter: EventReporter) {}

  check(usedBytes: number, maxBytes: number): void {
    const ratio = usedBytes / maxBytes;
    const details = {
      used_bytes: String(usedBytes),
      max_bytes: String(maxBytes),
      percent: String(Math.round(ratio * 100)),
    };
    if (!this.high && ratio >= 0.9) {
      this.high = true;
      this.reporter.raise('buffer.pressure', 'outbox', { ...details, state: 'high' });
    } else if (this.high && ratio <= 0.7) {
      this.high = false;
      this.reporter.raise('buffer.pressure', 'outbox', { ...details, state: 'cleared' }, 1);
    }
  }
}
