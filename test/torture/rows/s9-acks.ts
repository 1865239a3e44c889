import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Stream } from '../../../agent/src/core/index.js';
import { type AckMessage, encodeAck, keyIdOf, sealAck } from '../../../agent/src/telemetry/index.js';
import { type DocKey, docKey } from '../../helpers/trust.js';
import { waitFor } from '../../helpers/wait.js';
import { exactlyOnce, range, World } from '../../helpers/world.js';
import { outboxRows } from '../agentproc.js';
import { addDefect, type Ctx, emptyResult, type Row } from '../lib.js';

type AckStatus = { acks: { rejected: Record<string, number> } };

const FULL_CASES = 2000;
const QUICK_CASES = 200;

/**
 * S9: hostile acks through a real Mosquitto into the running agent's signed-ack
 * code, published with the device's own certificate (anyone the ACL lets write
 * the ack topic). Genuine acks captured earlier are replayed too. Rows deleted
 * (the outbox's count before and after) must be 0; then the real collector
 * comes back and every reading is stored exactly once.
 */
export const s9: Row = {
  id: 'S9',
  what: 'forged, replayed, over-the-head and wrong-device acks through Mosquitto: rows deleted',
  async run(ctx) {
    const r = emptyResult('cases');
    const w = new World({ deviceId: 'gw-s9' });
    const ackTopic = 'edge/v1/gw-s9/ack';
    try {
      await w.setup();
      await w.broker.start();
      await w.startCollector();
      await w.startAgent();
      const attacker = mqtt.connect(w.broker.url, {
        ca: readFileSync(w.pki.caFile),
        cert: readFileSync(join(w.agentDir, 'gw.crt')),
        key: readFileSync(join(w.agentDir, 'gw.key')),
        protocolVersion: 5,
        clientId: 'gw-s9-attacker',
        reconnectPeriod: 0,
      });
      attacker.on('error', () => undefined);
      await new Promise((res) => attacker.once('connect', res));
      // A first batch drains normally while the attacker records the collector's genuine acks.
      const genuine: Buffer[] = [];
      attacker.on('message', (_t, p) => genuine.push(Buffer.from(p)));
      await attacker.subscribeAsync(ackTopic, { qos: 1 });
      if (w.ingest(range(0, 200)).code !== 0) throw new Error('ingest failed');
      await waitFor(
        async () => (await outboxRows(w)) === 0 && genuine.length > 0,
        'the first batch acked',
        60_000,
      );
      await attacker.unsubscribeAsync(ackTopic);
      await w.stopCollector();
      // Rows now wait for acks that only the collector's key can sign.
      if (w.ingest(range(200, 600)).code !== 0) throw new Error('ingest failed');
      const telemetry = () => w.status().buffer.streams.find((s) => s.stream === 'telemetry');
      await waitFor(() => (telemetry()?.sent.rows ?? 0) > 0, 'rows PUBACKed, waiting for an ack', 60_000);
      // Telemetry rows only: the rejections add rows of their own to the events stream.
      const waiting = () => (telemetry()?.pending.rows ?? 0) + (telemetry()?.sent.rows ?? 0);
      const before = waiting();
      const head = telemetry()?.lastSeq ?? 0;
      const epoch = w.status().epoch;
      const rejected = () =>
        Object.values((w.status().link as unknown as AckStatus | null)?.acks.rejected ?? {}).reduce(
          (a, b) => a + b,
          0,
        );
      const was = rejected();
      const mine: AckMessage = { deviceId: 'gw-s9', stream: Stream.TELEMETRY, epoch, upToSeq: head };
      const stranger = docKey();
      const seal = (a: AckMessage, k: DocKey = w.collectorKey, id = keyIdOf(k.publicKey)) =>
        Buffer.from(sealAck(a, k.privateKey, id));
      const big = [head + 1, head + 1000, 2 ** 31, 2 ** 53 - 1];
      const kinds: [string, boolean, () => Buffer][] = [
        ['unsigned', true, () => Buffer.from(encodeAck({ ...mine, upToSeq: ctx.rng.pick(big) }))],
        ['unknown key', true, () => seal(mine, stranger)],
        [
          'unknown key under the collector key id',
          true,
          () => seal(mine, stranger, keyIdOf(w.collectorKey.publicKey)),
        ],
        ['root-signed', true, () => seal(mine, w.root)],
        [
          'another device',
          true,
          () => seal({ ...mine, deviceId: ctx.rng.pick(['gw-other', 'gw-s9 ', 'GW-S9', '']) }),
        ],
        ['another epoch', true, () => seal({ ...mine, epoch: epoch + 1 + ctx.rng.int(5) })],
        ['over the head', true, () => seal({ ...mine, upToSeq: ctx.rng.pick(big) })],
        [
          'events stream over its head',
          true,
          () => seal({ ...mine, stream: Stream.EVENTS, upToSeq: 2 ** 40 }),
        ],
        ['unknown stream', true, () => seal({ ...mine, stream: (3 + ctx.rng.int(100)) as Stream })],
        ['bit flip of a genuine ack', true, () => flip(ctx, seal(mine))],
        ['truncated', true, () => seal(mine).subarray(0, ctx.rng.int(seal(mine).length))],
        ['empty', true, () => Buffer.alloc(0)],
        // A genuine ack seen before covers rows already gone: taking it again may delete nothing new.
        ['replayed genuine ack', false, () => ctx.rng.pick(genuine)],
      ];
      const n = ctx.quick ? QUICK_CASES : FULL_CASES;
      let mustReject = 0;
      const byKind = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const [name, reject, make] = kinds[i % kinds.length];
        await attacker.publishAsync(ackTopic, make(), { qos: 1 });
        byKind.set(name, (byKind.get(name) ?? 0) + 1);
        if (reject) mustReject++;
        r.cases++;
      }
      // The replays are taken and delete nothing; every other case must be counted as rejected.
      await waitFor(
        () => rejected() - was >= mustReject,
        `${mustReject} acks counted as rejected`,
        60_000,
      ).catch(() =>
        addDefect(r, `only ${rejected() - was} of ${mustReject} hostile acks counted as rejected`),
      );
      const after = waiting();
      if (after < before) {
        r.lost += before - after;
        addDefect(r, `${before - after} rows deleted by hostile acks (seed ${ctx.seed})`);
      }
      await attacker.endAsync();
      await w.startCollector();
      await waitFor(
        async () => (await outboxRows(w)) === 0,
        'the outbox emptied by the real collector',
        120_000,
      );
      const problem = exactlyOnce((await w.stored()).values, 600);
      if (problem) addDefect(r, `at the collector: ${problem}`);
      r.notes = `${r.cases} hostile acks (${[...byKind].map(([k, v]) => `${k} ${v}`).join(', ')}); ${before} telemetry rows waiting, ${before - after} deleted; 600 readings stored exactly once`;
    } finally {
      await w.close();
    }
    return r;
  },
};

function flip(ctx: Ctx, b: Buffer): Buffer {
  const c = Buffer.from(b);
  const bit = ctx.rng.int(c.length * 8);
  c[bit >> 3] ^= 1 << (bit & 7);
  return c;
}
