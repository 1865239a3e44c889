import { parseConfig } from '../../../agent/src/config/index.js';
import { ClockQuality, Stream } from '../../../agent/src/core/index.js';
import { parseIngestLine } from '../../../agent/src/diag/index.js';
import { Topics } from '../../../agent/src/sync/index.js';
import { KeyRing, seal, verifyEnvelope, ZERO_HASH } from '../../../agent/src/telemetry/index.js';
import { testSigner } from '../../helpers/keys.js';
import { addDefect, emptyResult, type Row } from '../lib.js';

/** Strings that try to break out of a topic level, a log line, a SQL literal, a path or a terminal. */
const HOSTILE = [
  '+',
  '#',
  'gw/../other',
  'gw/+/ack',
  'other-gw/#',
  '$SYS/broker',
  '/gw',
  'gw/',
  'gw\0x',
  'gw\nnext',
  'gw\r\n{"level":60}',
  "gw'; DROP TABLE batches; --",
  '../../etc/passwd',
  '\x1b[2Jgw',
  'gw\u202e',
  'ｇｗ',
  'gw\u0000',
  ' gw',
  'gw ',
  '.',
  '..',
  '-gw',
  'a'.repeat(65),
  'a'.repeat(5000),
  '',
  'gw%2Fother',
  'gw\t1',
  '\ud800',
];
const PLAIN_LEVEL = /^[A-Za-z0-9._-]+$/;

/** S5: hostile ids are refused where they enter, or carried verbatim and inert; none reaches a topic. */
export const s5: Row = {
  id: 'S5',
  what: 'hostile device ids, sensor ids, labels and topics',
  async run() {
    const r = emptyResult('cases');
    const base = {
      device: { id: 'gw-s5' },
      storage: { dir: '/var/lib/edge-agent' },
      mqtt: { url: 'mqtts://broker:8883', ca: 'ca.crt', cert: 'gw.crt', key: 'gw.key' },
    };
    const accepts = (cfg: unknown) => {
      try {
        return parseConfig(cfg, '/etc/edge-agent/config.json');
      } catch (e) {
        if ((e as { code?: string }).code !== 'CONFIG_INVALID') throw e;
        return null;
      }
    };
    const s = testSigner();
    const ring = new KeyRing();
    ring.add('gw-s5', s.raw);
    for (const h of HOSTILE) {
      // Device id and group: refused at load, or the topics stay plain levels.
      for (const cfg of [
        { ...base, device: { id: h } },
        { ...base, device: { id: 'gw-s5', groups: [h] } },
        { ...base, mqtt: { ...base.mqtt, topicPrefix: h } },
        { ...base, mqtt: { ...base.mqtt, topicPrefix: `edge/${h}` } },
      ]) {
        r.cases++;
        const c = accepts(cfg);
        if (!c) continue;
        const t = new Topics(c.mqtt.topicPrefix, c.device.id);
        const levels = [t.stream(Stream.TELEMETRY), t.ack, t.config, t.status];
        if (
          !c.device.groups.every((g) => PLAIN_LEVEL.test(g)) ||
          !levels.every((l) => l.split('/').every((x) => PLAIN_LEVEL.test(x))) ||
          t.ack.split('/').length !== c.mqtt.topicPrefix.split('/').length + 2
        )
          addDefect(r, `config accepted ${JSON.stringify(cfg).slice(0, 160)}: topics ${levels.join(' ')}`);
      }
      // Sensor ids, units, labels and text values from the ingest socket: refused, or sealed and verified verbatim.
      for (const line of [
        { sensor: h, value: 1 },
        { sensor: 'aq-7', value: h },
        { sensor: 'aq-7', value: 1, unit: h },
        { sensor: 'aq-7', value: 1, labels: { [h]: 'x' } },
        { sensor: 'aq-7', value: 1, labels: { site: h } },
      ]) {
        r.cases++;
        const p = parseIngestLine(JSON.stringify(line), 1_764_150_000_000);
        if (!p.ok) continue;
        const b = seal(
          {
            deviceId: 'gw-s5',
            signingKey: s.privateKey,
            keyId: s.keyId,
            nowMs: 1,
            clock: ClockQuality.SYNCED,
          },
          Stream.TELEMETRY,
          [p.item],
          { epoch: 3, seq: 0, prevHash: ZERO_HASH },
        );
        let got: ReturnType<typeof verifyEnvelope>['batch'];
        try {
          got = verifyEnvelope(b.envelope, ring).batch;
        } catch (e) {
          // Accepted, sealed, then refused by the receiver: it would never be acked and would hold the stream up.
          addDefect(
            r,
            `ingest ${JSON.stringify(line).slice(0, 120)} was accepted but its batch does not verify: ${(e as Error).message}`,
          );
          continue;
        }
        const want = 'reading' in p.item ? p.item.reading : undefined;
        if (
          got.readings.length !== 1 ||
          JSON.stringify(got.readings[0]) !== JSON.stringify(want) ||
          got.deviceId !== 'gw-s5'
        )
          addDefect(r, `ingest ${JSON.stringify(line).slice(0, 120)} did not come back verbatim`);
      }
    }
    r.notes = `${HOSTILE.length} hostile strings as device ids, groups, topic prefixes, sensor ids, values, units and labels`;
    return r;
  },
};
