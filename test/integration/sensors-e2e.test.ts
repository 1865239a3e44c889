import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ftdiAdapter, makeCabinet, removeUsb, swapUsb } from '../helpers/cabinet.js';
import { docKey, installProfiles } from '../helpers/trust.js';
import { waitFor } from '../helpers/wait.js';
import { World } from '../helpers/world.js';

describe('sensor inventory, end to end', () => {
  const w = new World();
  const root = join(w.t.dir, 'cabinet');
  const rootKey = w.root;
  const profilesKey = docKey();
  before(async () => {
    makeCabinet(root);
    await w.setup();
    w.writeAgentConfig({
      trust: { rootKey: rootKey.b64 },
      monitor: { root, auth: { source: 'off' }, listeners: { enabled: false } },
      sensors: { enabled: true, schedule: '*/1 * * * * *' },
    });
    installProfiles(join(w.agentDir, 'data'), rootKey, profilesKey, 1, w.collectorKey);
    await w.broker.start();
    await w.startCollector();
  });
  after(async () => {
    await w.close();
  });

  it('a swapped and a vanished sensor reach the collector as verified events, with the inventory report', async () => {
    await w.startAgent();
    await waitFor(
      async () => (await w.collectorBatches([3])).some((b) => b.report?.kind === 'inventory'),
      'the first inventory report',
    );
    swapUsb(root, ftdiAdapter('SWAPPED1'));
    removeUsb(root, '1-1.4');
    const events = await waitFor(
      async () => {
        const ev = (await w.collectorBatches([2])).flatMap((b) => b.events);
        return (
          ev.some((e) => e.type === 'sensor.replaced') && ev.some((e) => e.type === 'sensor.removed') && ev
        );
      },
      'the change events at the collector',
      30_000,
    );
    const replaced = events.find((e) => e.type === 'sensor.replaced');
    assert.equal(replaced?.subject, '1-1.6');
    assert.equal(replaced?.severity, 4);
    assert.equal(events.find((e) => e.type === 'sensor.removed')?.subject, '1-1.4');
    assert.ok(events.some((e) => e.type === 'sensor.vulnerable' && e.details.cves === 'CVE-2022-26147'));
    const last = (await w.collectorBatches([3])).filter((b) => b.report?.kind === 'inventory').at(-1);
    const body = JSON.parse(Buffer.from(last?.report?.body ?? []).toString());
    assert.ok(!body.devices.some((d: { location: string }) => d.location === '1-1.4'));
  });
});
