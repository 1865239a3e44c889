import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { cli } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import { World } from '../helpers/world.js';

/** The daemon's peak resident set (VmHWM), in bytes. */
const peakRss = (pid: number | undefined): number =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) * 1024;

describe('sizes an attacker or a sensor can choose', () => {
  const w = new World();
  let platform: MqttClient;
  const statuses: { version: number; state: string; reason?: string }[] = [];
  const config = (mqttExtra: Record<string, unknown> = {}) =>
    w.writeAgentConfig({ ingest: { maxLineBytes: 1024 * 1024 } }, mqttExtra);

  before(async () => {
    await w.setup();
    config();
    await w.broker.start();
    await w.startCollector();
    await w.startAgent();
    const c = w.pki.client('collector');
    platform = mqtt.connect(w.broker.url, {
      ca: readFileSync(w.pki.caFile),
      cert: readFileSync(c.cert),
      key: readFileSync(c.key),
      protocolVersion: 5,
      clientId: 'platform',
    });
    await new Promise((r) => platform.once('connect', r));
    await platform.subscribeAsync(`edge/v1/${w.deviceId}/config/status`, { qos: 1 });
    platform.on('message', (_t, p) => statuses.push(JSON.parse(p.toString())));
    await waitFor(() => w.status().link?.state === 'connected', 'the agent online');
  });
  after(async () => {
    await platform?.endAsync();
    await w.close();
  });

  it('100 readings with 4,000-character text values all reach the collector', async () => {
    const lines = Array.from({ length: 100 }, (_, i) =>
      JSON.stringify({
        sensor: 'cam-1',
        value: `${String(i).padStart(3, '0')}${'p'.repeat(3997)}`,
        ts: 1_764_150_000_000 + i,
      }),
    );
    const r = cli(['ingest'], { config: w.config, input: lines.join('\n') });
    assert.equal(r.code, 0, r.stderr);
    const texts = await waitFor(async () => {
      const t = (await w.collectorBatches([1])).flatMap((b) =>
        b.readings.map((x) => x.value.value as string),
      );
      return t.length >= 100 ? t : undefined;
    }, 'every reading at the collector');
    assert.equal(new Set(texts.map((t) => t.slice(0, 3))).size, 100, 'each once');
    assert.ok(texts.every((t) => t.length === 4000));
    assert.ok((await w.collectorBatches([1])).length >= 2, 'more than one batch');
    assert.equal(Object.keys(w.collector?.stats.rejected ?? {}).length, 0, 'the collector refused nothing');
    await waitFor(() => w.bufferedRows() === 0, 'the telemetry stream drained');
  });

  it('MQTT 5: a 32 MB message on the config topic never reaches the agent (maximumPacketSize)', async () => {
    const linkBefore = w.status().link;
    const rss = peakRss(w.daemon?.pid);
    await platform.publishAsync(`edge/v1/${w.deviceId}/config`, Buffer.alloc(32 * 1024 * 1024, 0x7b), {
      qos: 1,
    });
    // Delivered in order after it: the agent answers this one, so it would have seen the big one.
    await platform.publishAsync(`edge/v1/${w.deviceId}/config`, Buffer.from('{"signed":"x"}'), { qos: 1 });
    await waitFor(
      () => statuses.find((s) => /^MALFORMED/.test(s.reason ?? '')),
      'the small document answered',
    );
    assert.equal(
      statuses.filter((s) => /TOO_LARGE/.test(s.reason ?? '')).length,
      0,
      'the big one never arrived',
    );
    const link = w.status().link;
    assert.equal(link?.state, 'connected');
    assert.equal(link?.lastError, null);
    assert.equal(
      (link as { connectedSince?: string } | null)?.connectedSince,
      (linkBefore as { connectedSince?: string } | null)?.connectedSince,
      'same session',
    );
    const grew = peakRss(w.daemon?.pid) - rss;
    assert.ok(grew < 16 * 1024 * 1024, `peak RSS grew by ${Math.round(grew / 1024 / 1024)} MB`);
  });

  it('MQTT 3.1.1 (no packet size to announce): the agent drops the session at the header, before buffering', async () => {
    await w.stopAgent();
    config({ protocolVersion: 4 });
    await platform.publishAsync(`edge/v1/${w.deviceId}/config`, Buffer.alloc(32 * 1024 * 1024, 0x7b), {
      qos: 1,
      retain: true,
    });
    await w.startAgent();
    const rss = peakRss(w.daemon?.pid);
    await waitFor(
      () => w.status().link?.lastError?.code === 'PACKET_TOO_LARGE',
      'the oversized packet refused',
    );
    const grew = peakRss(w.daemon?.pid) - rss;
    assert.ok(grew < 16 * 1024 * 1024, `peak RSS grew by ${Math.round(grew / 1024 / 1024)} MB`);
    // The platform clears the retained message: the agent connects and delivers again.
    await platform.publishAsync(`edge/v1/${w.deviceId}/config`, Buffer.alloc(0), { qos: 1, retain: true });
    await waitFor(() => w.status().link?.state === 'connected', 'connected again');
    assert.equal(w.ingest([1, 2, 3]).code, 0);
    await waitFor(() => w.bufferedRows() === 0, 'delivered and acked over MQTT 3.1.1');
  });
});
