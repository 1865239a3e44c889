import {
  type CapabilityReport,
  type Clock,
  type Logger,
  type Reading,
  ScheduledJob,
  type Service,
  Stream,
  type StreamItem,
} from '../core/index.js';

export interface HealthOptions {
  /** Cron expression with seconds (`cron` package), e.g. `0 * * * * *` for every minute. */
  schedule: string;
  /** Where the samples go (the batcher). */
  submit: (items: StreamItem[]) => Promise<void>;
  /** Extra figures from the agent itself (buffer depth, event-loop lag). */
  agentFigures?: () => Record<string, number>;
  clock: Clock;
  log: Logger;
  report?: CapabilityReport;
}

/** The sensor id health readings carry. */
export const HEALTH_SENSOR = 'gateway';

/**
 * Samples the gateway's health with systeminformation on a cron schedule and
 * sends it as readings on the telemetry stream.
 */
export class HealthSampler implements Service {
  readonly name = 'health';
  private readonly job: ScheduledJob;

  constructor(private readonly opts: HealthOptions) {
    this.job = new ScheduledJob({ ...opts, name: this.name, run: () => this.sampleOnce() });
  }

  async start(): Promise<void> {
    this.job.start();
  }

  async stop(): Promise<void> {
    await this.job.stop();
  }

  /** Takes one sample now; 0 when it failed (logged). */
  async sampleNow(): Promise<number> {
    try {
      return await this.sampleOnce();
    } catch (e) {
      this.opts.log.warn({ err: e }, 'health sample failed');
      return 0;
    }
  }

  private async sampleOnce(): Promise<number> {
    {
      const figures = await collect();
      Object.assign(figures, this.opts.agentFigures?.() ?? {});
      const ts = this.opts.clock.now();
      const items: StreamItem[] = Object.entries(figures)
        .filter(([, v]) => Number.isFinite(v))
        .map(([metric, value]) => ({ stream: Stream.TELEMETRY, reading: reading(metric, value, ts) }));
      await this.opts.submit(items);
      return items.length;
    }
  }
}

const UNITS: Record<string, string> = {
  cpu_load: '%',
  mem_used: '%',
  cpu_temp: 'C',
  disk_used: '%',
  uptime: 's',
  net_rx: 'B',
  net_tx: 'B',
  agent_rss: 'B',
  event_loop_lag_p99: 'ms',
  buffer_rows: 'rows',
};

function reading(metric: string, value: number, ts: number): Reading {
  return {
    sensorId: HEALTH_SENSOR,
    tsMs: ts,
    unit: UNITS[metric] ?? '',
    value: { kind: 'number', value },
    labels: { metric },
  };
}

/** Reads what the platform exposes; a figure it cannot give is left out. */
async function collect(): Promise<Record<string, number>> {
  // Loaded at the first sample, not at start: 1.2 MB of heap a daemon with health off never needs (#12).
  const { default: si } = await import('systeminformation');
  const [load, mem, temp, fs, net] = await Promise.all([
    si.currentLoad().catch(() => null),
    si.mem().catch(() => null),
    si.cpuTemperature().catch(() => null),
    si.fsSize().catch(() => []),
    si.networkStats().catch(() => []),
  ]);
  const out: Record<string, number> = { uptime: si.time().uptime, agent_rss: process.memoryUsage().rss };
  if (load) out.cpu_load = round(load.currentLoad);
  if (mem && mem.total > 0) out.mem_used = round((100 * mem.active) / mem.total);
  if (temp && typeof temp.main === 'number') out.cpu_temp = temp.main;
  const root = fs.find((f) => f.mount === '/') ?? fs[0];
  if (root) out.disk_used = round(root.use);
  if (net.length > 0) {
    out.net_rx = net.reduce((n, i) => n + (i.rx_bytes ?? 0), 0);
    out.net_tx = net.reduce((n, i) => n + (i.tx_bytes ?? 0), 0);
  }
  return out;
}

const round = (n: number) => Math.round(n * 10) / 10;
