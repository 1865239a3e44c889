import { spawn } from 'node:child_process';
import { type Clock, Every, systemClock } from '../core/index.js';

/**
 * Talks to systemd for a `Type=notify` unit. Node cannot send on the notify
 * (datagram) socket, so this runs `systemd-notify` (the unit sets
 * `NotifyAccess=all`). Does nothing outside systemd.
 */
export class SystemdNotifier {
  private timer: Every | undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly command = 'systemd-notify',
    private readonly clock: Clock = systemClock,
  ) {}

  get active(): boolean {
    return Boolean(this.env.NOTIFY_SOCKET);
  }

  private send(...args: string[]): void {
    if (!this.active) return;
    const c = spawn(this.command, args, { stdio: 'ignore', env: this.env });
    c.on('error', () => undefined);
  }

  /** READY=1, then watchdog pings at half the interval systemd asked for, while `healthy()` says so. */
  ready(healthy: () => boolean = () => true): void {
    this.send('--ready', `--pid=${process.pid}`);
    const usec = Number(this.env.WATCHDOG_USEC);
    if (!this.active || !Number.isFinite(usec) || usec <= 0) return;
    // A ping missed is systemd's cue to restart the agent: none while it is unhealthy.
    this.timer = new Every(this.clock, Math.max(1000, usec / 2000), () => {
      if (healthy()) this.send(`--pid=${process.pid}`, 'WATCHDOG=1');
    });
    this.timer.start();
  }

  stopping(): void {
    this.timer?.stop();
    this.send(`--pid=${process.pid}`, 'STOPPING=1');
  }
}
