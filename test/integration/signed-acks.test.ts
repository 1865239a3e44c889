import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { Stream } from '../../agent/src/core/index.js';
import { type AckMessage, encodeAck, keyIdOf, sealAck } from '../../agent/src/telemetry/index.js';
import { docKey } from '../helpers/trust.js';
import { waitFor } from '../helpers/wait.js';
import { exactlyOnce, range, World } from '../helpers/world.js';

type AckStatus = { acks: { rejected: Record<string, number>; collectorKey: boolean } };

describe('signed acks through Mosquitto', () => {
  const w = new World();
  let attacker: MqttClient;
  const acks = () => (w.status().link as unknown as AckStatus | null)?.acks;
  const rejectedTotal = () => Object.values(acks()?.rejected ?? {}).reduce((a, b) => a + b, 0);
  const telemetry = () => w.status().buffer.streams.find((s) => s.stream === 'telemetry');
  const forge = (ack: AckMessage, key = w.collectorKey, keyId = keyIdOf(key.publicKey)) =>
    Buffer.from(sealAck(ack, key.privateKey, keyId));

  before(async () => {
    await w.setup();
    await w.broker.start();
    // The collector publishes the keys document (retained) and goes away: rows wait for its acks.
    await w.startCollector();
    await w.stopCollector();
    await w.startAgent();
    await waitFor(() => acks()?.collectorKey === true, 'the collector key from the retained keys topic');
    // Anyone with publish rights on the ack topic: here the device's own certificate.
    attacker = mqtt.connect(w.broker.url, {
      ca: readFileSync(w.pki.caFile),
      cert: readFileSync(join(w.agentDir, 'gw.crt')),
      key: readFileSync(join(w.agentDir, 'gw.key')),
      protocolVersion: 5,
      clientId: 'attacker',
    });
    await new Promise((r) => attacker.once('connect', r));
  });
  after(async () => {
    await attacker?.endAsync();
    await w.close();
  });

  it('forged, wrong-key, unsigned, replayed, wrong-epoch and over-the-head acks delete nothing', async () => {
    for (const part of [range(0, 10), range(10, 20), range(20, 30)]) assert.equal(w.ingest(part).code, 0);
    await waitFor(() => (telemetry()?.sent.rows ?? 0) > 0, 'rows PUBACKed, waiting for the collector');
    const before = w.bufferedRows();
    const head = telemetry()?.lastSeq ?? 0;
    assert.ok(head >= 1 && before >= head);
    const epoch = w.status().epoch;
    const mine = { deviceId: w.deviceId, stream: Stream.TELEMETRY, epoch, upToSeq: head };
    const stranger = docKey();
    const attacks: [string, Buffer][] = [
      ['unsigned old-format', Buffer.from(encodeAck({ ...mine, upToSeq: 1000 }))],
      ['forged by an unknown key', forge(mine, stranger)],
      ['forged under the collector key id', forge(mine, stranger, keyIdOf(w.collectorKey.publicKey))],
      ['signed by the root, not a collector key', forge(mine, w.root)],
      ['replayed from another device', forge({ ...mine, deviceId: 'gw-other' })],
      ['another epoch', forge({ ...mine, epoch: epoch === 1 ? 2 : epoch - 1 })],
      ['over the head', forge({ ...mine, upToSeq: head + 1000 })],
      ['an unknown stream', forge({ ...mine, stream: 9 as Stream })],
    ];
    for (const [, payload] of attacks)
      await attacker.publishAsync(`edge/v1/${w.deviceId}/ack`, payload, { qos: 1 });
    await waitFor(() => rejectedTotal() >= attacks.length, 'every forged ack counted as rejected');
    const reasons = acks()?.rejected ?? {};
    for (const r of [
      'UNKNOWN_KEY',
      'BAD_SIGNATURE',
      'WRONG_DEVICE',
      'WRONG_EPOCH',
      'BEYOND_HEAD',
      'UNKNOWN_STREAM',
    ])
      assert.ok((reasons[r] ?? 0) >= 1, `${r} in ${JSON.stringify(reasons)}`);
    assert.equal(rejectedTotal(), attacks.length);
    assert.ok(w.bufferedRows() >= before, `rows kept: ${w.bufferedRows()} of ${before}`);
    assert.ok((telemetry()?.pending.items ?? 0) + (telemetry()?.sent.rows ?? 0) > 0);

    // The collector comes back: it has every reading once, the rejections among the events,
    // and its own signed acks empty the outbox.
    await w.startCollector();
    await waitFor(async () => (await w.stored()).values.length >= 30, 'the readings at the collector');
    assert.equal(exactlyOnce((await w.stored()).values, 30), null);
    const events = await waitFor(async () => {
      const ev = (await w.collectorBatches([Stream.EVENTS])).flatMap((b) => b.events);
      return ev.filter((e) => e.type === 'sync.ack_rejected').length >= 6 ? ev : undefined;
    }, 'sync.ack_rejected at the collector');
    const rejected = events.filter((e) => e.type === 'sync.ack_rejected');
    assert.ok(rejected.every((e) => e.severity === 4));
    assert.ok(rejected.some((e) => e.details.reason === 'BEYOND_HEAD'));
    await waitFor(() => w.bufferedRows() === 0, 'the outbox emptied by signed acks', 20_000);
  });

  it('an agent offline during a key rotation picks the retained keys document up', async () => {
    await w.stopAgent();
    await w.stopCollector();
    const old = w.collectorKey;
    w.rotateCollectorKey(2);
    // The new collector publishes keys v2 (retained) while the agent is away, then stops too.
    await w.startCollector();
    await w.stopCollector();
    await w.startAgent();
    assert.equal(w.ingest(range(100, 110)).code, 0);
    await waitFor(() => (telemetry()?.sent.rows ?? 0) > 0, 'new rows PUBACKed');
    const head = telemetry()?.lastSeq ?? 0;
    const rows = w.bufferedRows();
    const ack = { deviceId: w.deviceId, stream: Stream.TELEMETRY, epoch: w.status().epoch, upToSeq: head };
    const was = acks()?.rejected.UNKNOWN_KEY ?? 0;
    await attacker.publishAsync(`edge/v1/${w.deviceId}/ack`, forge(ack, old), { qos: 1 });
    await waitFor(() => (acks()?.rejected.UNKNOWN_KEY ?? 0) > was, 'the revoked collector key refused');
    assert.ok(w.bufferedRows() >= rows, 'nothing deleted by the revoked key');
    await w.startCollector();
    await waitFor(() => w.bufferedRows() === 0, 'the outbox emptied by acks of the new key', 20_000);
    const stored = (await w.stored()).values.filter((v) => v >= 100);
    assert.equal(
      exactlyOnce(
        stored.map((v) => v - 100),
        10,
      ),
      null,
    );
  });
});
