import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ManualClock, Stream, type StreamItem, silentLogger } from '../../../agent/src/core/index.js';
import { HEALTH_SENSOR, HealthSampler } from '../../../agent/src/monitor/index.js';

it('samples real gateway health figures as telemetry readings', async () => {
  const got: StreamItem[] = [];
  const clock = new ManualClock(Date.UTC(2026, 10, 26));
  const h = new HealthSampler({
    schedule: '0 0 0 1 1 *',
    submit: async (items) => {
      got.push(...items);
    },
    agentFigures: () => ({ buffer_rows: 7 }),
    clock,
    log: silentLogger(),
  });
  const n = await h.sampleNow();
  assert.equal(n, got.length);
  const byMetric = new Map(
    got.map((i) => ('reading' in i ? [i.reading.labels.metric, i.reading] : ['', undefined])),
  );
  for (const m of ['cpu_load', 'mem_used', 'uptime', 'agent_rss', 'buffer_rows'])
    assert.ok(byMetric.has(m), `has ${m}`);
  const mem = byMetric.get('mem_used')!;
  assert.equal(mem.sensorId, HEALTH_SENSOR);
  assert.equal(mem.unit, '%');
  assert.equal(mem.tsMs, clock.now());
  assert.ok(mem.value.kind === 'number' && mem.value.value > 0 && mem.value.value <= 100);
  assert.equal(byMetric.get('buffer_rows')?.value.value, 7);
  assert.ok(got.every((i) => i.stream === Stream.TELEMETRY));
});
