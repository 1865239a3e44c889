import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadJsonState, writeJsonState } from '../config/index.js';
import { type Clock, ClockQuality, type Service } from '../core/index.js';
import type { EventReporter } from './reporter.js';
import { BUILD_FLOOR_MS } from './time.js';

export interface ClockMonitorOptions {
  clock: Clock;
  reporter: EventReporter;
  /** Where the time floor is persisted. */
  stateDir: string;
  /** Filesystem root for the timesync marker. */
  root: string;
  maxForwardJumpMs: number;
  intervalMs: number;
  /** Without a sync marker, the clock is trusted again after this long without a jump. */
  settleMs?: number;
  /**
   * Times a LAN attacker cannot forge, read at start (the client certificate's
   * notBefore, signed by the pinned CA); each may raise the floor fully.
   */
  evidence?: () => (number | undefined)[];
}

const FLOOR_FILE = 'time-floor.json';

/**
 * NTP is unauthenticated: a spoofed "synced" clock may push the floor no further
 * than this beyond the last authenticated floor plus the monotonic time since,
 * so one boot 10 years ahead cannot leave the gateway IMPLAUSIBLE for 10 years.
 */
export const MAX_UNAUTHENTICATED_FLOOR_STEP_MS = 3_600_000;

/**
 * Watches the wall clock against the monotonic one (DESIGN.md Time): raises
 * `clock.jump` and `clock.implausible`, keeps the persisted time floor, and says
 * whether date-based decisions (retention, key rotation) may act now.
 */
export class ClockMonitor implements Service {
  readonly name = 'clock-monitor';
  private floorMs = BUILD_FLOOR_MS;
  private last: { wall: number; mono: number } | undefined;
  private jumpedAtMono: number | null = null;
  private markerAtJump: number | null = null;
  private implausibleRaised = false;
  private lastPersist = Number.NEGATIVE_INFINITY;
  private timer: ReturnType<Clock['setTimeout']> | undefined;
  /** The floor as authenticated evidence last set it, and when (monotonic). */
  private anchor = { floorMs: BUILD_FLOOR_MS, mono: 0 };

  constructor(private readonly opts: ClockMonitorOptions) {}

  async start(): Promise<void> {
    const saved = loadJsonState<{ floorMs?: number }>(join(this.opts.stateDir, FLOOR_FILE), {
      stamp: this.opts.clock.now(),
      // A number no Date can hold (1e300) would throw in every toISOString of it: the daemon died at each start.
      valid: (v) => isDateMs((v as { floorMs?: unknown } | null)?.floorMs),
      // The floor falls back to the build date: a clock set back past the lost floor goes unnoticed until evidence comes.
      onCorrupt: (aside, reason) =>
        this.opts.reporter.raise('agent.state_quarantined', FLOOR_FILE, {
          aside,
          reason,
          loss: 'the persisted time floor (back to the build date)',
        }),
    });
    if (saved && isDateMs(saved.floorMs)) this.floorMs = Math.max(this.floorMs, saved.floorMs);
    this.anchor = { floorMs: this.floorMs, mono: this.opts.clock.monotonic() };
    for (const ms of this.opts.evidence?.() ?? []) if (ms !== undefined) this.raiseFloor(ms);
    this.check();
    this.schedule();
  }

  async stop(): Promise<void> {
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
  }

  get floor(): number {
    return this.floorMs;
  }

  /**
   * Raises the floor from authenticated evidence (a signed document's issuedAt,
   * a certificate's notBefore); it never goes down.
   */
  raiseFloor(ms: number): void {
    if (!isDateMs(ms) || ms <= this.floorMs) return;
    this.floorMs = ms;
    this.anchor = { floorMs: ms, mono: this.opts.clock.monotonic() };
    this.persist(true);
  }

  quality(): ClockQuality {
    if (this.opts.clock.now() < this.floorMs) return ClockQuality.IMPLAUSIBLE;
    return this.marker() !== null ? ClockQuality.SYNCED : ClockQuality.UNSYNCED;
  }

  /** Date-based decisions may act: the clock is plausible and no unresolved jump is pending. */
  trusted(): boolean {
    return this.quality() !== ClockQuality.IMPLAUSIBLE && this.jumpedAtMono === null;
  }

  /** One check; tests call it with an injected clock. */
  check(): void {
    const { clock } = this.opts;
    const wall = clock.now();
    const mono = clock.monotonic();
    if (this.last) {
      const drift = wall - this.last.wall - (mono - this.last.mono);
      if (drift < -2000 || drift > this.opts.maxForwardJumpMs) {
        this.jumpedAtMono = mono;
        this.markerAtJump = this.marker();
        this.opts.reporter.raise('clock.jump', drift < 0 ? 'backwards' : 'forwards', {
          drift_ms: String(Math.round(drift)),
          from: new Date(this.last.wall).toISOString(),
          to: new Date(wall).toISOString(),
        });
      }
    }
    this.last = { wall, mono };
    if (this.jumpedAtMono !== null) {
      const m = this.marker();
      const resynced = m !== null && m !== this.markerAtJump;
      if (resynced || mono - this.jumpedAtMono >= (this.opts.settleMs ?? 3_600_000)) this.jumpedAtMono = null;
    }
    if (wall < this.floorMs) {
      if (!this.implausibleRaised) {
        this.implausibleRaised = true;
        this.opts.reporter.raise('clock.implausible', 'wall-clock', {
          now: new Date(wall).toISOString(),
          floor: new Date(this.floorMs).toISOString(),
        });
      }
    } else {
      this.implausibleRaised = false;
      if (this.quality() === ClockQuality.SYNCED && this.jumpedAtMono === null) {
        const cap = this.anchor.floorMs + (mono - this.anchor.mono) + MAX_UNAUTHENTICATED_FLOOR_STEP_MS;
        const next = Math.min(wall, cap);
        if (next > this.floorMs) {
          this.floorMs = next;
          this.persist(false);
        }
      }
    }
  }

  private schedule(): void {
    this.timer = this.opts.clock.setTimeout(() => {
      this.check();
      this.schedule();
    }, this.opts.intervalMs);
  }

  /** mtime of systemd-timesyncd's marker, touched at each successful sync; null without one. */
  private marker(): number | null {
    const f = join(this.opts.root, 'run/systemd/timesync/synchronized');
    try {
      return existsSync(f) ? statSync(f).mtimeMs : null;
    } catch {
      return null;
    }
  }

  private persist(force: boolean): void {
    const mono = this.opts.clock.monotonic();
    if (!force && mono - this.lastPersist < 3_600_000) return;
    this.lastPersist = mono;
    writeJsonState(join(this.opts.stateDir, FLOOR_FILE), { floorMs: this.floorMs });
  }
}

/** Largest time a Date holds (ECMA-262: ±8.64e15 ms). */
const MAX_DATE_MS = 8.64e15;
const isDateMs = (v: unknown): v is number => typeof v === 'number' && Math.abs(v) <= MAX_DATE_MS;
