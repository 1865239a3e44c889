import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import nacl from 'tweetnacl';
import type { PrivacyRule } from '../../../agent/src/config/index.js';
import { ManualClock, type Reading, systemRandom } from '../../../agent/src/core/index.js';
import { openSealed, PrivacyEngine, periodOf, rulesFor } from '../../../agent/src/privacy/index.js';
import { tempDir } from '../../helpers/paths.js';

const t = tempDir();
after(() => t.cleanup());
const platform = nacl.box.keyPair();
let n = 0;
function engine(
  rules: PrivacyRule[],
  clock = new ManualClock(Date.UTC(2026, 10, 26, 10)),
  rotation: 'hourly' | 'daily' = 'daily',
) {
  const e = new PrivacyEngine({
    rules,
    rotation,
    platformPublicKey: platform.publicKey,
    dir: join(t.dir, `e${n++}`),
    clock,
    random: systemRandom,
  });
  return { e, clock };
}
const wifi = (mac: string, extra: Record<string, string> = {}): Reading => ({
  sensorId: 'wifi-counter-3',
  tsMs: Date.UTC(2026, 10, 26, 10, 17, 42, 123),
  unit: 'devices',
  value: { kind: 'number', value: 1 },
  labels: { mac, rssi: '-67', ...extra },
});

describe('privacy rules', () => {
  it("drops a label, or a whole sensor's readings", () => {
    const { e } = engine([
      { sensors: ['wifi-*'], target: 'label:rssi', action: 'drop' },
      { sensors: ['cam-*'], target: 'reading', action: 'drop' },
    ]);
    assert.deepEqual(e.apply(wifi('aa:bb:cc:dd:ee:ff'))?.labels, { mac: 'aa:bb:cc:dd:ee:ff' });
    assert.equal(e.apply({ ...wifi('x'), sensorId: 'cam-2' }), null);
    assert.deepEqual(
      e.apply({ ...wifi('x'), sensorId: 'aq-7' })?.labels.rssi,
      '-67',
      'other sensors untouched',
    );
  });

  it('pseudonymises: stable within a key period, different after rotation, never the raw value', () => {
    const { e, clock } = engine(
      [{ sensors: ['wifi-*'], target: 'label:mac', action: 'pseudonymise' }],
      undefined,
      'hourly',
    );
    const mac = 'aa:bb:cc:dd:ee:ff';
    const p1 = e.apply(wifi(mac))!.labels.mac;
    assert.match(p1, /^ps:[A-Za-z0-9_-]{22}$/);
    assert.equal(e.apply(wifi(mac))!.labels.mac, p1, 'stable within the period: counts stay possible');
    assert.notEqual(e.apply(wifi('aa:bb:cc:dd:ee:00'))!.labels.mac, p1);
    clock.advance(3600_000);
    const p2 = e.apply(wifi(mac))!.labels.mac;
    assert.notEqual(p2, p1, 'a new period, a new key');
    const keyFile = join(t.dir, `e${n - 1}`, 'pseudonym.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const stored = JSON.parse(readFileSync(keyFile, 'utf8'));
    assert.equal(stored.period, periodOf(clock.now(), 'hourly'), 'only the current key is kept');
  });

  it('keeps the key while the clock cannot be trusted', () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26, 10));
    let trusted = true;
    const e = new PrivacyEngine({
      rules: [{ sensors: ['*'], target: 'label:mac', action: 'pseudonymise' }],
      rotation: 'hourly',
      dir: join(t.dir, 'untrusted'),
      clock,
      random: systemRandom,
      clockTrusted: () => trusted,
    });
    const p1 = e.apply(wifi('m'))!.labels.mac;
    trusted = false;
    clock.setWall(Date.UTC(1970, 0, 1));
    assert.equal(e.apply(wifi('m'))!.labels.mac, p1);
  });

  it('generalises numbers, coordinates and timestamps', () => {
    const { e } = engine([
      { sensors: ['gps-*'], target: 'label:lat', action: 'generalise', step: 0.01 },
      { sensors: ['gps-*'], target: 'label:lon', action: 'generalise', step: 0.01 },
      { sensors: ['gps-*'], target: 'value', action: 'generalise', step: 5 },
      { sensors: ['gps-*'], target: 'ts', action: 'generalise', truncateS: 900 },
      { sensors: ['gps-*'], target: 'label:plate', action: 'generalise', step: 1 },
    ]);
    const r = e.apply({
      sensorId: 'gps-bus-12',
      tsMs: Date.UTC(2026, 10, 26, 10, 17, 42),
      unit: 'km/h',
      value: { kind: 'number', value: 47.3 },
      labels: { lat: '45.464211', lon: '9.190339', plate: 'AB123CD' },
    })!;
    assert.deepEqual(
      r.labels,
      { lat: '45.46', lon: '9.19' },
      'a label that cannot be generalised is removed, not kept raw',
    );
    assert.deepEqual(r.value, { kind: 'number', value: 45 });
    assert.equal(r.tsMs, Date.UTC(2026, 10, 26, 10, 15));
  });

  it('a value rule that cannot apply drops the reading: never the raw value', () => {
    const { e } = engine([{ sensors: ['gps-*'], target: 'value', action: 'generalise', step: 0.01 }]);
    const gps = (value: Reading['value']): Reading => ({
      sensorId: 'gps-bus-12',
      tsMs: Date.UTC(2026, 10, 26, 10),
      unit: 'deg',
      value,
      labels: {},
    });
    assert.deepEqual(e.apply(gps({ kind: 'number', value: 52.5200177 }))?.value, {
      kind: 'number',
      value: 52.52,
    });
    assert.deepEqual(
      e.apply(gps({ kind: 'text', value: '52.5200177' }))?.value,
      { kind: 'text', value: '52.52' },
      'a number sent as a string is generalised too',
    );
    assert.equal(e.apply(gps({ kind: 'text', value: 'near the north gate' })), null);
    assert.equal(e.apply(gps({ kind: 'text', value: '  ' })), null);
    assert.equal(e.apply(gps({ kind: 'flag', value: true })), null);
    // Rules that reach the engine without the config's checks still never pass the raw value.
    const zero = engine([{ sensors: ['gps-*'], target: 'value', action: 'generalise', step: 0 }]).e;
    assert.equal(zero.apply(gps({ kind: 'number', value: 52.5200177 })), null);
    const noKey = new PrivacyEngine({
      rules: [{ sensors: ['gps-*'], target: 'value', action: 'seal' }],
      rotation: 'daily',
      dir: join(t.dir, 'no-key'),
      clock: new ManualClock(),
      random: systemRandom,
    });
    assert.equal(noKey.apply(gps({ kind: 'text', value: 'AB123CD' })), null);
    const ps = engine([{ sensors: ['gps-*'], target: 'value', action: 'pseudonymise' }]).e;
    assert.equal(ps.apply(gps({ kind: 'flag', value: true })), null);
    const blob = ps.apply(gps({ kind: 'blob', value: new Uint8Array([1, 2, 3]) }));
    assert.equal(blob?.value.kind, 'text');
    assert.match(String(blob?.value.value), /^ps:/);
  });

  it("seals a value so only the platform's secret key opens it", () => {
    const { e } = engine([
      { sensors: ['anpr-*'], target: 'value', action: 'seal' },
      { sensors: ['anpr-*'], target: 'label:plate', action: 'seal' },
    ]);
    const a = e.apply({
      sensorId: 'anpr-1',
      tsMs: 1,
      unit: '',
      value: { kind: 'text', value: 'AB123CD' },
      labels: { plate: 'AB123CD' },
    })!;
    const b = e.apply({
      sensorId: 'anpr-1',
      tsMs: 1,
      unit: '',
      value: { kind: 'text', value: 'AB123CD' },
      labels: {},
    })!;
    assert.equal(a.value.kind, 'sealed');
    const sealed = a.value.value as Uint8Array;
    assert.equal(openSealed(sealed, platform.secretKey), 'AB123CD');
    assert.equal(openSealed(Buffer.from(a.labels.plate, 'base64'), platform.secretKey), 'AB123CD');
    assert.ok(!Buffer.from(sealed).includes(Buffer.from('AB123CD')));
    assert.notDeepEqual(
      Buffer.from(sealed),
      Buffer.from(b.value.value as Uint8Array),
      'a fresh ephemeral key per value',
    );
    assert.equal(
      openSealed(sealed, nacl.box.keyPair().secretKey),
      null,
      'no other key opens it (the device keeps none)',
    );
    assert.deepEqual(Buffer.from(sealed.subarray(0, 32)).length, 32);
  });

  it('a rule naming a label the reading lacks is not an error; rules match by glob', () => {
    const { e } = engine([{ sensors: ['wifi-*'], target: 'label:bssid', action: 'pseudonymise' }]);
    assert.deepEqual(e.apply(wifi('m'))?.labels, { mac: 'm', rssi: '-67' });
    const rules: PrivacyRule[] = [{ sensors: ['wifi-*', 'bt-?'], target: 'value', action: 'drop' }];
    assert.equal(rulesFor(rules, 'wifi-1').length, 1);
    assert.equal(rulesFor(rules, 'xwifi-1').length, 0);
  });
});
