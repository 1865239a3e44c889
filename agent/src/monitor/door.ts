import { readFileSync } from 'node:fs';
import type { Clock, Service } from '../core/index.js';
import type { EventReporter } from './reporter.js';

/**
 * A cabinet-door switch on a GPIO line (its sysfs value file): opening it while
 * no maintenance window is announced raises `tamper.door_open`.
 */
export class DoorMonitor implements Service {
  readonly name = 'door-monitor';
  private timer: NodeJS.Timeout | undefined;
  private open = false;
  private maintenanceUntil = Number.NEGATIVE_INFINITY;
  private maintainer = '';

  constructor(
    private readonly opts: {
      path: string;
      openValue: string;
      reporter: EventReporter;
      clock: Clock;
      intervalMs?: number;
    },
  ) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => this.check(), this.opts.intervalMs ?? 500);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
  }

  /** A technician announces work on the cabinet for `minutes`. */
  announceMaintenance(minutes: number, technician: string): void {
    this.maintenanceUntil = this.opts.clock.monotonic() + minutes * 60_000;
    this.maintainer = technician;
  }

  get maintenance(): { active: boolean; technician: string } {
    return { active: this.opts.clock.monotonic() < this.maintenanceUntil, technician: this.maintainer };
  }

  check(): void {
    let v: string;
    try {
      v = readFileSync(this.opts.path, 'utf8').trim();
    } catch {
      return;
    }
    const nowOpen = v === this.opts.openValue;
    if (nowOpen && !this.open && !this.maintenance.active) {
      this.opts.reporter.raise('tamper.door_open', 'cabinet-door', { gpio: this.opts.path });
    }
    this.open = nowOpen;
  }
}
