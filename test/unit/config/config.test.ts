import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validateCronExpression } from 'cron';
import {
  ConfigError,
  configPath,
  DEFAULT_SCHEDULES,
  deepMerge,
  loadConfig,
  parseConfig,
  readRawConfig,
  remoteIssues,
} from '../../../agent/src/config/index.js';
import { cli, writeConfig } from '../../helpers/agent.js';
import { tempDir } from '../../helpers/paths.js';

const minimal = {
  device: { id: 'gw-01' },
  storage: { dir: '/var/lib/edge-agent' },
  mqtt: { url: 'mqtts://broker.city:8883', ca: 'ca.crt', cert: 'gw.crt', key: 'gw.key' },
};

function issues(value: unknown): string[] {
  try {
    parseConfig(value, '/etc/edge-agent/config.json');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

describe('config', () => {
  it('fills defaults and resolves paths against the file', () => {
    const c = parseConfig(minimal, '/etc/edge-agent/config.json');
    assert.equal(c.mqtt.ca, '/etc/edge-agent/ca.crt');
    assert.equal(c.mqtt.topicPrefix, 'edge/v1');
    assert.equal(c.mqtt.protocolVersion, 5);
    assert.equal(c.storage.maxBytes, 256 * 1024 * 1024);
    assert.equal(c.sockets.agent, '/var/lib/edge-agent/agent.sock');
    assert.equal(c.identity.signingKey, '/var/lib/edge-agent/identity/signing.key');
    assert.deepEqual(c.batching.telemetry, { maxItems: 100, maxDelayMs: 1000 });
    assert.deepEqual(c.device.groups, []);
  });

  it('takes only valid cron expressions as default schedules, and refuses any other that is none', () => {
    // The defaults are not handed to cron at load (it costs every command its start-up), so here they are.
    for (const [name, expr] of Object.entries(DEFAULT_SCHEDULES))
      assert.equal(validateCronExpression(expr).valid, true, `${name}: ${expr}`);
    const c = parseConfig(minimal, '/etc/edge-agent/config.json');
    assert.deepEqual(
      [c.health.schedule, c.sensors.schedule, c.software.schedule, c.integrity.schedule, c.audit.schedule],
      Object.values(DEFAULT_SCHEDULES),
    );
    const bad = issues({
      ...minimal,
      health: { schedule: '99 * * * * *' },
      sensors: { schedule: '0 */5 * * * 9' },
      software: { schedule: '0 61 * * * *' },
      integrity: { schedule: '0 0 25 * * *' },
      audit: { schedule: '0 30 3 * 13 *' },
    });
    for (const field of ['health', 'sensors', 'software', 'integrity', 'audit'])
      assert.ok(
        bad.some((m) => m.startsWith(`${field}.schedule: is not a cron expression`)),
        `${field}: ${bad.join('\n')}`,
      );
  });

  it('names every missing required field', () => {
    assert.deepEqual(issues({}).sort(), ['device: is required', 'mqtt: is required', 'storage: is required']);
    assert.deepEqual(issues({ device: {}, storage: {}, mqtt: {} }).sort(), [
      'device.id: is required',
      'mqtt.ca: is required',
      'mqtt.cert: is required',
      'mqtt.key: is required',
      'mqtt.url: is required',
      'storage.dir: is required',
    ]);
  });

  it('names the field and the reason for each bad value', () => {
    const bad = issues({
      ...minimal,
      device: { id: 'gw/+/#' },
      storage: { dir: '/x', maxBytes: 'big' },
      mqtt: { ...minimal.mqtt, protocolVersion: 3, url: 'http://x' },
      batching: { telemetry: { maxItems: 0 } },
      logg: {},
    });
    assert.ok(
      bad.some((m) => m.startsWith('device.id: "gw/+/#" must match')),
      bad.join('\n'),
    );
    assert.ok(bad.includes('storage.maxBytes: must be an integer, got "big"'));
    assert.ok(bad.includes('mqtt.protocolVersion: must be one of 4, 5, got 3'));
    assert.ok(bad.some((m) => m.startsWith('mqtt.url: "http://x" must look like mqtts://')));
    assert.ok(bad.includes('batching.telemetry.maxItems: must be at least 1, got 0'));
    assert.ok(bad.includes('logg: is not a known field'));
  });

  it('refuses invalid privacy rules and monitor settings, naming each', () => {
    const bad = issues({
      ...minimal,
      privacy: {
        rules: [
          { sensors: ['anpr-*'], target: 'value', action: 'seal' },
          { sensors: ['wifi-*'], target: 'label:', action: 'pseudonymise' },
          { sensors: ['gps-*'], target: 'value', action: 'generalise' },
          { sensors: ['x'], target: 'reading', action: 'seal' },
          { sensors: ['x'], target: 'value', action: 'encrypt' },
        ],
      },
      monitor: { listeners: { allow: ['ssh'] }, auth: { threshold: 0 } },
    });
    assert.ok(
      bad.includes('privacy.rules[1].target: "label:" must be value, ts, reading or label:<name>'),
      bad.join('\n'),
    );
    assert.ok(
      bad.includes(
        'privacy.rules[4].action: must be one of "drop", "pseudonymise", "generalise", "seal", got "encrypt"',
      ),
    );
    assert.ok(bad.includes('monitor.listeners.allow[0]: "ssh" must look like tcp/22 or udp/123'));
    assert.ok(bad.includes('monitor.auth.threshold: must be at least 1, got 0'));
    const cross = issues({
      ...minimal,
      privacy: {
        rules: [
          { sensors: ['anpr-*'], target: 'value', action: 'seal' },
          { sensors: ['gps-*'], target: 'value', action: 'generalise' },
          { sensors: ['x'], target: 'reading', action: 'seal' },
        ],
      },
    });
    assert.deepEqual(cross, [
      'privacy.rules[0].action: seal needs privacy.platformPublicKey',
      'privacy.rules[1].step: generalise needs a step',
      'privacy.rules[2].action: seal needs privacy.platformPublicKey',
      'privacy.rules[2].target: only drop applies to a whole reading',
    ]);
  });

  it('reports unreadable and malformed files as errors of the file', () => {
    const t = tempDir();
    try {
      const f = join(t.dir, 'config.json');
      assert.throws(() => loadConfig(f), /\(file\): no such file/);
      writeFileSync(f, '{"device": ');
      assert.throws(() => loadConfig(f), /\(file\): not valid JSON/);
      writeFileSync(f, JSON.stringify(minimal));
      assert.equal(loadConfig(f).device.id, 'gw-01');
    } finally {
      t.cleanup();
    }
  });

  it('takes --config, then EDGE_AGENT_CONFIG, then the default', () => {
    assert.equal(configPath('/a.json', { EDGE_AGENT_CONFIG: '/b.json' }), '/a.json');
    assert.equal(configPath(undefined, { EDGE_AGENT_CONFIG: '/b.json' }), '/b.json');
    assert.equal(configPath(undefined, {}), '/etc/edge-agent/config.json');
  });
});

describe('hostile configs', () => {
  it('refuses fields named __proto__ or constructor, at any depth and in remote settings', () => {
    // JSON.parse makes `__proto__` an own key, as a config file read from disk would.
    const bad = JSON.parse(
      '{"device":{"id":"gw-01","constructor":{}},"storage":{"dir":"/x"},"__proto__":{"x":1},' +
        '"mqtt":{"url":"mqtts://b:8883","ca":"a","cert":"b","key":"c","toString":1}}',
    );
    assert.deepEqual(issues(bad).sort(), [
      '__proto__: is not a known field',
      'device.constructor: is not a known field',
      'mqtt.toString: is not a known field',
    ]);
    const remote = JSON.parse('{"__proto__":{"a":1},"log":{"constructor":{}}}');
    assert.deepEqual(
      remoteIssues(remote)
        .map((i) => `${i.path}: ${i.message}`)
        .sort(),
      ['body.__proto__: is not a known field', 'body.log.constructor: is not a known field'],
    );
    // A merge keeps the key as data (then refused) and leaves the prototype alone.
    const merged = deepMerge({ a: 1 }, JSON.parse('{"__proto__":{"polluted":true}}')) as Record<
      string,
      unknown
    >;
    assert.equal(Object.getPrototypeOf(merged), Object.prototype);
    assert.equal((merged as { polluted?: boolean }).polluted, undefined);
    assert.ok(Object.hasOwn(merged, '__proto__'));
  });

  it('refuses a generalise rule with step 0 (it would seal the raw value)', () => {
    const bad = issues({
      ...minimal,
      privacy: { rules: [{ sensors: ['gps-*'], target: 'value', action: 'generalise', step: 0 }] },
    });
    assert.deepEqual(bad, ['privacy.rules[0].step: must be greater than 0, got 0']);
  });

  it('refuses a world-writable config file or folder in loadConfig, config check and the daemon', () => {
    const t = tempDir();
    try {
      const file = writeConfig(join(t.dir, 'a'));
      chmodSync(file, 0o666);
      assert.throws(
        () => loadConfig(file),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.issues[0]?.path === '(file)' &&
          /is writable by anyone \(mode 0666\); fix: chmod o-w/.test(e.issues[0].message),
      );
      assert.throws(() => readRawConfig(file), /\(file\): is writable by anyone/);
      const check = cli(['config', 'check'], { config: file });
      assert.equal(check.code, 2);
      assert.match(check.stderr, /\(file\): is writable by anyone \(mode 0666\)/);
      const run = cli(['run'], { config: file });
      assert.equal(run.code, 2);
      assert.match(run.stderr, /\(file\): is writable by anyone/);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');

      const folder = join(t.dir, 'open');
      mkdirSync(folder);
      const inOpen = writeConfig(folder);
      chmodSync(folder, 0o777);
      const check2 = cli(['config', 'check', '--json'], { config: inOpen });
      assert.equal(check2.code, 2);
      const j = JSON.parse(check2.stdout) as { errors: { path: string; message: string }[] };
      assert.equal(j.errors[0]?.path, '(folder)');
      assert.match(j.errors[0]?.message ?? '', /is writable by anyone \(mode 0777\), so anyone can replace/);
      const run2 = cli(['run'], { config: inOpen });
      assert.equal(run2.code, 2);
      assert.match(run2.stderr, /\(folder\): .* is writable by anyone/);

      chmodSync(folder, 0o755);
      writeFileSync(join(folder, 'unused'), '');
      assert.equal(cli(['config', 'check'], { config: inOpen }).code, 0);
    } finally {
      t.cleanup();
    }
  });
});
