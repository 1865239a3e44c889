import { asError, type Logger, type Service } from '../core/index.js';

/**
 * The daemon's services in start order. Starts them in that order (stopping
 * those already started if one fails), stops them in reverse, and keeps one
 * failing stop from keeping the others from running.
 */
export class ServiceSet {
  private started: Service[] = [];

  constructor(
    private readonly all: Service[],
    private readonly log: Logger,
  ) {}

  /** Whether every service started (and none has been stopped since). */
  get complete(): boolean {
    return this.started.length === this.all.length;
  }

  async start(): Promise<void> {
    for (const s of this.all) {
      try {
        await s.start();
      } catch (e) {
        this.log.error({ err: e, service: s.name }, 'service failed to start');
        await this.stop();
        throw e;
      }
      this.started.push(s);
    }
  }

  /** Stops every started service but `keep`, in reverse order. */
  async stop(keep?: Service): Promise<void> {
    for (const s of [...this.started].reverse()) {
      if (s === keep) continue;
      try {
        await s.stop();
      } catch (e) {
        this.log.error({ err: asError(e), service: s.name }, 'service failed to stop cleanly');
      }
    }
    this.started = keep && this.started.includes(keep) ? [keep] : [];
  }
}
