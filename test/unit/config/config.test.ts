import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, configPath, loadConfig, parseConfig } from '../../../agent/src/config/index.js';
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
