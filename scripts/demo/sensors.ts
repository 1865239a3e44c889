import { Stream, type StreamItem } from '../../agent/src/core/index.js';

/**
 * A simulated street cabinet: an air-quality sensor (PM2.5, random walk),
 * a traffic counter and a noise meter, `rate` readings per second in all.
 */
export class SimulatedSensors {
  private timer: NodeJS.Timeout | undefined;
  private pm = 12;
  private vehicles = 0;
  sent = 0;
  refused = 0;

  constructor(
    private readonly rate: number,
    private readonly submit: (items: StreamItem[]) => Promise<void>,
  ) {}

  start(): void {
    const perTick = Math.max(1, Math.round(this.rate / 10));
    this.timer = setInterval(() => {
      const items: StreamItem[] = [];
      for (let i = 0; i < perTick; i++) items.push(this.next(i));
      this.submit(items).then(
        () => {
          this.sent += items.length;
        },
        () => {
          this.refused += items.length;
        },
      );
    }, 100);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private next(i: number): StreamItem {
    const ts = Date.now();
    const r = (sensorId: string, unit: string, value: number): StreamItem => ({
      stream: Stream.TELEMETRY,
      reading: {
        sensorId,
        tsMs: ts,
        unit,
        value: { kind: 'number', value },
        labels: { site: 'demo-street-4' },
      },
    });
    switch (i % 3) {
      case 0:
        this.pm = Math.max(0, this.pm + (Math.random() - 0.5) * 2);
        return r('aq-7', 'ug/m3', Math.round(this.pm * 10) / 10);
      case 1:
        this.vehicles += Math.random() < 0.4 ? 1 : 0;
        return r('traffic-3', 'vehicles', this.vehicles);
      default:
        return r('noise-2', 'dB(A)', Math.round((55 + Math.random() * 20) * 10) / 10);
    }
  }
}
