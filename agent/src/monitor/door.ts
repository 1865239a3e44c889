import { readFileSync } from 'node:fs';
import { asError, type CapabilityReport, type Clock, Every, type Service } from '../core/index.js';
import type { EventReporter } from './reporter.js';

/**
 * A cabinet-door switch on a GPIO line (its sysfs value file): opening it while
 * no maintenance window is announced raises `tamper.door_open`.
 */
export class DoorMonitor implements Service {
  readonly name = 'door-monitor';
  private readonly timer: Every;
  private open = false;
  private unreadable = false;
  private maintenanceUntil = Number.NEGATIVE_INFINITY;
  private maintainer = '';

  constructor(
    private readonly opts: {
      path: string;
      openValue: string;
      reporter: EventReporter;
      clock: Clock;
      intervalMs?: number;
      /** An unreadable switch is a blind tamper alert: reported, never silent. */
      report?: CapabilityReport;
    },
  ) {
    this.timer = new Every(opts.clock, opts.intervalMs ?? 500, () => this.check());
  }

  async start(): Promise<void> {
    this.timer.start();
  }

  async stop(): Promise<void> {
    this.timer.stop();
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
    } catch (e) {
      // Reported once per outage, so a dead GPIO is not an event every 500 ms.
      if (!this.unreadable) this.opts.report?.failed(asError(e));
      this.unreadable = true;
      return;
    }
    if (this.unreadable) this.opts.report?.recovered();
    this.unreadable = false;
    const nowOpen = v === this.opts.openValue;
    if (nowOpen && !this.open && !this.maintenance.active) {
      this.opts.reporter.raise('tamper.door_open', 'cabinet-door', { gpio: this.opts.path });
    }
    this.open = nowOpen;
  }
}
