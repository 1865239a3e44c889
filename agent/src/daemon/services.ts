import {
  asError,
  type CapabilityReport,
  type Clock,
  type Logger,
  retryDelay,
  type Service,
  type TimerHandle,
} from '../core/index.js';
import type { Bus } from './bus.js';

/** How one capability is doing, as `status` and `doctor` show it. */
export interface CapabilityState {
  name: string;
  /** Critical capabilities (pipeline, outbox, uplink, sockets) stop the agent when they fail to start. */
  critical: boolean;
  state: 'stopped' | 'starting' | 'running' | 'failed';
  /** The last failure while failed: its code (an error's `code`, else its name) and message. */
  error: { code: string; message: string; at: string } | null;
  failures: number;
  /** When a failed start is tried again. */
  retryAt: string | null;
}

interface Entry {
  service: Service;
  state: CapabilityState;
  retry: TimerHandle | undefined;
}

/** An error's code for events and status: its `code` when it has one (AgentError, errno), else its name. */
export const codeOf = (err: Error): string => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : err.name;
};

/**
 * The daemon's services. Critical ones start in order and a failure stops the
 * agent (systemd restarts it). Optional ones are isolated: a failed start, or a
 * failure they report later through the bus, raises `agent.capability_failed`
 * (once per new error code), shows in status, and a failed start is retried
 * with backoff on the injected clock, while telemetry carries on.
 */
export class ServiceSet {
  private readonly entries: Entry[];
  private started = false;

  constructor(
    critical: Service[],
    optional: Service[],
    private readonly deps: { clock: Clock; log: Logger; bus: Bus },
  ) {
    const entry = (service: Service, isCritical: boolean): Entry => ({
      service,
      retry: undefined,
      state: {
        name: service.name,
        critical: isCritical,
        state: 'stopped',
        error: null,
        failures: 0,
        retryAt: null,
      },
    });
    this.entries = [...critical.map((s) => entry(s, true)), ...optional.map((s) => entry(s, false))];
    deps.bus.on('capability', ({ name, error }) => {
      const e = this.entries.find((x) => x.service.name === name);
      if (!e || e.state.state === 'stopped') return;
      if (error) this.failed(e, error);
      else if (e.state.state === 'failed') this.recovered(e);
    });
  }

  /** Critical services all running: what the watchdog requires. */
  get criticalUp(): boolean {
    return this.started && this.entries.every((e) => !e.state.critical || e.state.state === 'running');
  }

  states(): CapabilityState[] {
    return this.entries.map((e) => ({ ...e.state }));
  }

  async start(): Promise<void> {
    this.started = true;
    for (const e of this.entries) {
      e.state.state = 'starting';
      if (e.state.critical) {
        try {
          await e.service.start();
        } catch (err) {
          this.deps.log.error({ err, service: e.service.name }, 'service failed to start');
          await this.stop();
          throw err;
        }
        e.state.state = 'running';
      } else await this.startOptional(e);
    }
  }

  /** Stops every running service but `keep`, in reverse order; one failing stop never keeps the others. */
  async stop(keep?: Service): Promise<void> {
    this.started = keep !== undefined;
    for (const e of [...this.entries].reverse()) {
      if (e.service === keep) continue;
      if (e.retry) this.deps.clock.clearTimeout(e.retry);
      e.retry = undefined;
      e.state.retryAt = null;
      if (e.state.state === 'stopped') continue;
      e.state.state = 'stopped';
      try {
        await e.service.stop();
      } catch (err) {
        this.deps.log.error({ err: asError(err), service: e.service.name }, 'service failed to stop cleanly');
      }
    }
  }

  private async startOptional(e: Entry): Promise<void> {
    e.retry = undefined;
    e.state.retryAt = null;
    const wasFailed = e.state.error !== null;
    e.state.state = 'starting';
    try {
      await e.service.start();
      // A first run that failed inside start() left it 'failed': its own job retries that.
      if (e.state.state === 'starting') {
        if (wasFailed) this.recovered(e);
        e.state.state = 'running';
      }
    } catch (err) {
      this.failed(e, asError(err));
      // A failed start may hold half its resources: stop is safe after one (Service contract).
      await e.service.stop().catch(() => undefined);
      const delay = retryDelay(e.state.failures);
      e.state.retryAt = new Date(this.deps.clock.now() + delay).toISOString();
      e.retry = this.deps.clock.setTimeout(() => {
        if (this.started && e.state.state === 'failed') void this.startOptional(e);
      }, delay);
    }
  }

  private failed(e: Entry, err: Error): void {
    const code = codeOf(err);
    const again = e.state.error?.code === code;
    e.state.state = 'failed';
    e.state.failures++;
    e.state.error = {
      code,
      message: err.message.slice(0, 300),
      at: new Date(this.deps.clock.now()).toISOString(),
    };
    this.deps.log.error({ err, capability: e.service.name }, 'capability failed; telemetry carries on');
    if (!again)
      this.deps.bus.raise('agent.capability_failed', e.service.name, { capability: e.service.name, code });
  }

  private recovered(e: Entry): void {
    this.deps.log.info({ capability: e.service.name }, 'capability works again');
    e.state.state = 'running';
    e.state.error = null;
    e.state.failures = 0;
  }
}

/** What an optional service is handed to report run-time failures onto the bus. */
export function reportTo(bus: Bus, name: string): CapabilityReport {
  return {
    failed: (error) => bus.emit('capability', { name, error }),
    recovered: () => bus.emit('capability', { name, error: null }),
  };
}
