import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { MqttClient } from 'mqtt';
import { Severity } from '../../agent/src/core/index.js';
import { cycloneDxValidator, fixtureFeed, IMAGE, trustProfilesKey } from '../helpers/software.js';
import { docKey, makeDoc } from '../helpers/trust.js';
import { waitFor } from '../helpers/wait.js';
import { World } from '../helpers/world.js';

describe('gateway software end to end: a feed on the retained topic, findings at the collector', () => {
  const w = new World();
  const root = join(w.t.dir, 'image');
  const rootKey = docKey();
  const profilesKey = docKey();
  let platform: MqttClient;
  const publish = (doc: Buffer) =>
    platform.publishAsync('edge/v1/gw-test/vulnerabilities', doc, { qos: 1, retain: true });
  const sboms = async () =>
    (await w.collectorBatches([3]))
      .filter((b) => b.report?.kind === 'sbom')
      .map((b) => {
        assert.equal(b.report?.contentType, 'application/vnd.cyclonedx+json+gzip');
        return JSON.parse(gunzipSync(Buffer.from(b.report?.body ?? [])).toString('utf8')) as {
          vulnerabilities?: { id: string }[];
        };
      });
  const events = () => w.collectorEvents();

  before(async () => {
    cpSync(IMAGE, root, { recursive: true });
    await w.setup();
    w.writeAgentConfig({
      trust: { rootKey: rootKey.b64 },
      monitor: { root, auth: { source: 'off' }, listeners: { enabled: false } },
      software: { enabled: true, schedule: '*/2 * * * * *' },
    });
    trustProfilesKey(join(w.agentDir, 'data'), rootKey, profilesKey, w.collectorKey);
    await w.broker.start();
    await w.startCollector();
    platform = await w.platformClient('platform-feed');
  });
  after(async () => {
    await platform?.endAsync();
    await w.close();
  });

  it('the SBOM report arrives verified; the retained feed brings software.vulnerable events and the findings in the next SBOM', async () => {
    await w.startAgent();
    await waitFor(async () => (await sboms()).length >= 1, 'the first SBOM report');
    assert.equal((await sboms())[0].vulnerabilities, undefined, 'no feed yet: nothing judged');
    await publish(readFileSync(fixtureFeed(w.t.dir, profilesKey, 3)));
    const ev = await waitFor(
      async () => {
        const v = (await events()).filter((e) => e.type === 'software.vulnerable');
        return v.length >= 6 && v;
      },
      'software.vulnerable events at the collector',
      30_000,
    );
    const glibc = ev.find((e) => e.subject === 'deb:glibc');
    assert.equal(glibc?.severity, Severity.CRITICAL);
    assert.equal(glibc?.details.cves, 'CVE-2023-4911');
    assert.equal(glibc?.details.kev, 'true');
    const bom = await waitFor(
      async () => (await sboms()).find((b) => b.vulnerabilities?.length),
      'an SBOM with findings',
    );
    assert.deepEqual(cycloneDxValidator()(bom), []);
    assert.deepEqual(bom.vulnerabilities?.map((v) => v.id).sort(), [
      'CVE-2022-25883',
      'CVE-2023-4911',
      'CVE-2023-5363',
      'CVE-2024-1086',
      'CVE-2024-6387',
      'CVE-2025-12816',
    ]);
  });

  it('a feed signed by another key is refused with vulnerabilities.rejected; the findings stay', async () => {
    await publish(makeDoc('vulnerabilities', 9, { sources: [], records: [] }, docKey()));
    const rejected = await waitFor(
      async () => (await events()).find((e) => e.type === 'vulnerabilities.rejected'),
      'vulnerabilities.rejected at the collector',
      30_000,
    );
    assert.match(rejected.details.reason, /^BAD_SIGNATURE: /);
    assert.equal(rejected.details.inForce, '3');
    assert.equal(rejected.subject, 'mqtt');
  });
});
