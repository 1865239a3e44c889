import type { AgentConfig } from '../config/index.js';
import { Stream, type StreamItem } from '../core/index.js';
import { type PrivacyEngine, rulesFor } from '../privacy/index.js';
import type { Bus } from './bus.js';

export interface PrivacyReport {
  rules: AgentConfig['privacy']['rules'];
  sensors: { sensor: string; rules: number[] }[];
  dropped: number;
}

/** Readings from the ingest socket: privacy rules first, then the pipeline. Remembers which sensors it saw. */
export class Intake {
  /** Readings a privacy rule dropped whole. */
  dropped = 0;
  private readonly sensorsSeen = new Set<string>();

  constructor(
    private readonly rules: AgentConfig['privacy']['rules'],
    private readonly privacy: PrivacyEngine,
    private readonly bus: Bus,
  ) {}

  readonly ingest = (item: StreamItem): Promise<void> => {
    if (!('reading' in item)) return this.bus.submit([item]);
    if (this.sensorsSeen.size < 1000) this.sensorsSeen.add(item.reading.sensorId);
    const r = this.privacy.apply(item.reading);
    if (!r) {
      this.dropped++;
      return Promise.resolve();
    }
    return this.bus.submit([{ stream: Stream.TELEMETRY, reading: r }]);
  };

  /** Which privacy rules apply to which of the sensors seen since start. */
  report(): PrivacyReport {
    const rules = this.rules;
    const sensors = [...this.sensorsSeen]
      .sort()
      .map((sensor) => ({ sensor, rules: rulesFor(rules, sensor).map((r) => rules.indexOf(r)) }));
    return { rules, sensors, dropped: this.dropped };
  }
}
