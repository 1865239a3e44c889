import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock, type SecurityEvent, silentLogger } from '../../../agent/src/core/index.js';
import { DiscoveryError, discover, SensorService } from '../../../agent/src/sensors/index.js';
import { signDocument, TrustStore } from '../../../agent/src/trust/index.js';
import { cli, writeConfig } from '../../helpers/agent.js';
import { addUsb, ftdiAdapter, makeCabinet, removeUsb, swapUsb } from '../../helpers/cabinet.js';
import { tempDir } from '../../helpers/paths.js';
import { docKey, installProfiles, makeDoc, shippedProfiles } from '../../helpers/trust.js';

const profileFiles = shippedProfiles;

describe('sensor inventory on a fixture cabinet', () => {
  const t = tempDir();
  const root = join(t.dir, 'root');
  const data = join(t.dir, 'agent', 'data');
  const rootKey = docKey();
  const profilesKey = docKey();
  let config = '';
  const bundle = (version: number, profiles = profileFiles(), key = profilesKey) =>
    makeDoc('profiles', version, { profiles }, key);
  before(() => {
    makeCabinet(root);
    config = writeConfig(join(t.dir, 'agent'), {
      trust: { rootKey: rootKey.b64 },
      monitor: { root },
      sensors: {
        enabled: false,
        declared: [
          { id: 'modbus-meter-1', model: 'ftdi-ft232r', location: 'ttyUSB1' },
          { id: 'pm-sensor-2', model: 'wch-ch340', location: 'ttyUSB7' },
        ],
      },
    });
    installProfiles(data, rootKey, profilesKey, 2);
  });
  after(() => t.cleanup());

  const inventory = () => {
    const r = cli(['inventory', '--json'], { config });
    return {
      code: r.code,
      out: JSON.parse(r.stdout) as {
        devices: { bus: string; location: string; verdict: string; cves: { id: string }[]; model?: string }[];
        warnings: string[];
        profilesVersion: number;
      },
    };
  };

  it('gives every fixture device its verdict from the shipped profiles', () => {
    const { code, out } = inventory();
    const v = Object.fromEntries(out.devices.map((d) => [`${d.bus} ${d.location}`, d.verdict]));
    assert.deepEqual(v, {
      'usb 1-1.1': 'approved',
      'usb 1-1.2': 'vulnerable',
      'usb 1-1.3': 'unknown-model',
      'usb 1-1.4': 'approved',
      'usb 1-1.5': 'approved',
      'usb 1-1.6': 'approved',
      'serial ttyAMA0': 'unknown-model',
      'w1 28-0316a2e3b8ff': 'approved',
      'i2c 1-0076': 'approved',
      'lan 192.168.10.21@eth0': 'unknown-model',
      'lan 192.168.10.30@eth0': 'unknown-model',
      'declared ttyUSB1': 'approved',
      'declared ttyUSB7': 'declared-missing',
    });
    assert.deepEqual(
      out.devices.find((d) => d.location === '1-1.2')?.cves.map((c) => c.id),
      ['CVE-2022-26147'],
    );
    assert.equal(out.profilesVersion, 2);
    assert.equal(code, 1, 'not everything is approved');
    const human = cli(['inventory'], { config });
    assert.match(
      human.stdout,
      /Quectel RG502Q-EA 5G module +usb 1-1\.2 +2c7c:0800 +4\.14 +vulnerable +CVE-2022-26147 \(critical\)/,
    );
  });

  it('refuses unsigned, tampered, wrongly typed and older bundles, keeping the last good one', () => {
    const file = join(data, 'profiles-bundle.json');
    const good = readFileSync(file);
    const tries: [string | Buffer, RegExp][] = [
      [JSON.stringify({ profiles: profileFiles() }), /MALFORMED/],
      [
        good.toString().replace(/"signed":"(.)/, (_m, c) => `"signed":"${c === 'A' ? 'B' : 'A'}`),
        /BAD_SIGNATURE|MALFORMED/,
      ],
      [makeDoc('config', 3, { profiles: profileFiles() }, profilesKey), /BAD_SIGNATURE|WRONG_TYPE/],
      [bundle(3, profileFiles(), docKey()), /BAD_SIGNATURE/],
      [bundle(1), /STALE_VERSION/],
      [bundle(4, [{ id: 'Bad Id', vendor: 'x', model: 'y', match: [] }]), /SCHEMA: body\.profiles\[0\]\.id/],
    ];
    for (const [content, reason] of tries) {
      writeFileSync(file, content);
      const { out } = inventory();
      assert.match(out.warnings.join('\n'), reason);
      assert.equal(out.profilesVersion, 2, 'the last good bundle stays in force');
      assert.equal(out.devices.find((d) => d.location === '1-1.4')?.verdict, 'approved');
    }
    writeFileSync(file, good);
    void signDocument;
  });

  it('raises the right event for each change kind, and none for the first inventory but verdicts', async () => {
    const events: SecurityEvent[] = [];
    const reports: unknown[] = [];
    const store = new TrustStore(data, rootKey.b64);
    store.load();
    const svc = new SensorService({
      root,
      schedule: '0 0 0 1 1 *',
      declared: [],
      bundleFile: join(data, 'profiles-bundle.json'),
      stateDir: data,
      trust: () => store,
      audience: () => ({
        deviceId: 'gw-test',
        groups: [],
        nowMs: Date.UTC(2026, 10, 26),
        clockTrusted: true,
      }),
      raise: (type, subject, details) => events.push({ type, subject, details, severity: 1, tsMs: 0 }),
      submit: async (items) => {
        reports.push(...items);
      },
      clock: new ManualClock(Date.UTC(2026, 10, 26)),
      log: silentLogger(),
    });
    await svc.start();
    try {
      assert.deepEqual(events.map((e) => `${e.type} ${e.subject}`).sort(), [
        'sensor.unknown 1-1.3',
        'sensor.unknown 192.168.10.21@eth0',
        'sensor.unknown 192.168.10.30@eth0',
        'sensor.unknown ttyAMA0',
        'sensor.vulnerable 1-1.2',
      ]);
      events.length = 0;
      removeUsb(root, '1-1.4'); // the Zigbee coordinator vanishes
      addUsb(root, {
        port: '1-1.7',
        vid: '10c4',
        pid: 'ea60',
        product: 'CP2102N USB to UART Bridge Controller',
        serial: 'f0e1',
      }); // something new
      swapUsb(root, ftdiAdapter('B99OTHER')); // same model, other unit
      removeUsb(root, '1-1.5');
      addUsb(root, { port: '1-2', vid: '1a86', pid: '7523', bcd: '0264', product: 'USB Serial' }); // the CH340 moved to another port
      writeFileSync(join(root, 'sys/bus/usb/devices/1-1.1/bcdDevice'), '0319\n'); // modem firmware changed
      const changes = await svc.runNow(false);
      assert.deepEqual(changes.map((c) => `${c.kind} ${c.device.location}`).sort(), [
        'added 1-1.7',
        'firmware_changed 1-1.1',
        'moved 1-2',
        'removed 1-1.4',
        'replaced 1-1.6',
      ]);
      assert.deepEqual(events.map((e) => e.type).sort(), [
        'sensor.added',
        'sensor.firmware_changed',
        'sensor.moved',
        'sensor.removed',
        'sensor.replaced',
      ]);
      assert.ok(reports.length >= 2, 'a report at start and one for the change');
    } finally {
      await svc.stop();
    }
  });

  it('shows hostile descriptor strings escaped and capped, fingerprinted from the raw bytes', () => {
    const r = join(t.dir, 'hostile');
    addUsb(r, {
      port: '1-1',
      vid: '16c0',
      pid: '05dc',
      product: '\u001b[2J\u001b[31mEVIL\u0007',
      manufacturer: Buffer.from([0x41, 0xff, 0xfe, 0x42]),
      serial: 'x'.repeat(255),
    });
    addUsb(r, {
      port: '1-2',
      vid: '16c0',
      pid: '05dc',
      product: '\u001b[2J\u001b[31mEVIL\u0007',
      manufacturer: Buffer.from([0x41, 0xfd, 0xfe, 0x42]),
      serial: 'x'.repeat(255),
    });
    const { devices } = discover(r);
    const [a, b] = devices;
    assert.equal(a.product, '\\x1b[2J\\x1b[31mEVIL\\x07');
    assert.doesNotMatch(JSON.stringify(devices), /\\u001b|\\u0007/);
    assert.ok((a.serial ?? '').length <= 65);
    assert.match(a.manufacturer ?? '', /^A\\ufffd/);
    assert.equal(a.manufacturer, b.manufacturer, 'both render the same...');
    assert.notEqual(a.fingerprint, b.fingerprint, '...but the raw bytes tell them apart');
  });

  it('a fixture with 10,000 devices completes; unreadable entries are skipped with a warning', () => {
    const r = join(t.dir, 'big');
    for (let i = 0; i < 10_000; i++)
      addUsb(r, { port: `${1 + (i % 4)}-${i}`, vid: '0403', pid: '6001', serial: `S${i}` });
    mkdirSync(join(r, 'sys/bus/usb/devices/9-9'), { recursive: true }); // no idVendor: unreadable
    const t0 = performance.now();
    const d = discover(r);
    const ms = performance.now() - t0;
    assert.equal(d.devices.length, 10_000);
    assert.equal(d.warnings.length, 1);
    assert.match(d.warnings[0], /9-9: idVendor\/idProduct not readable, skipped/);
    console.log(`# discovery of 10,000 USB devices: ${Math.round(ms)} ms`);
  });

  it('a bus folder that exists but cannot be listed stops discovery; one that is absent is no bus', () => {
    const r = join(t.dir, 'broken');
    assert.deepEqual(discover(r).devices, [], 'an empty root: no buses, no error');
    addUsb(r, ftdiAdapter('A1'));
    mkdirSync(join(r, 'sys/bus/w1'), { recursive: true });
    // A loop where the folder should be (as a damaged sysfs or overlay shows it): ELOOP, not absence.
    symlinkSync('devices', join(r, 'sys/bus/w1/devices'));
    assert.throws(
      () => discover(r),
      (e) =>
        e instanceof DiscoveryError &&
        e.code === 'DISCOVERY_FAILED' &&
        /w1\/devices \(ELOOP\)/.test(e.message),
    );
    rmSync(join(r, 'sys/bus/w1/devices'));
    assert.equal(discover(r).devices.length, 1);
    mkdirSync(join(r, 'proc/net/arp'), { recursive: true });
    assert.throws(() => discover(r), /proc\/net\/arp \(EISDIR\)/);
  });
});
