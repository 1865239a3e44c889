// A collector's stop must finish whatever the broker does (the torture run's R3 sat forever in
// World.close() after Mosquitto dropped the collector during its stop): mqtt.js's graceful end
// waits for every unanswered QoS 1 publish and for the broker to close the socket, neither of
// which comes from a broker that is gone or hung.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { City } from '../../helpers/city.js';
import { pgliteStore } from '../../helpers/platform.js';
import { World } from '../../helpers/world.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Far beyond the collector's own bound: only a stop that never finishes reaches it. */
const HUNG_MS = 30_000;

async function settles(p: Promise<void>): Promise<'stopped' | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((r) => {
    timer = setTimeout(() => r('hung'), HUNG_MS);
  });
  try {
    return await Promise.race([p.then(() => 'stopped' as const), hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** A collector whose retained keys publish for a newly registered device is left unanswered by a frozen broker. */
async function collectorWithUnansweredPublish(w: World): Promise<void> {
  await w.broker.start();
  writeFileSync(w.registryFile, '[]');
  const c = await w.startCollector({ registryRefreshMs: 50 });
  w.broker.freeze();
  await c.db.addDevices([{ deviceId: 'gw-late' }]);
  // A few registry refreshes: the new device's keys document goes out and no PUBACK can come.
  await sleep(500);
}

describe('collector stop is bounded', () => {
  it('finishes while a publish waits on a hung broker', async () => {
    const w = new World();
    try {
      await collectorWithUnansweredPublish(w);
      assert.equal(await settles(w.stopCollector()), 'stopped');
    } finally {
      await w.close();
    }
  });

  it('finishes after the broker dropped the collector with a publish unanswered', async () => {
    const w = new World();
    try {
      await collectorWithUnansweredPublish(w);
      await w.broker.kill();
      await sleep(200);
      assert.equal(await settles(w.stopCollector()), 'stopped');
    } finally {
      await w.close();
    }
  });
});

describe('edge-platform collector', () => {
  it('exits on SIGTERM while its broker hangs', async () => {
    const city = new City();
    try {
      await city.setup(0);
      const child = await city.collector('c-term', await pgliteStore(join(city.t.dir, 'platform')));
      city.broker.freeze();
      const exited = once(child, 'exit').then(() => undefined);
      child.kill('SIGTERM');
      const r = await settles(exited);
      if (r === 'hung') child.kill('SIGKILL');
      assert.equal(r, 'stopped', city.logs.get('c-term'));
      assert.equal(child.exitCode, 0, `signal ${child.signalCode}; ${city.logs.get('c-term')}`);
    } finally {
      await city.close();
    }
  });

  it('exits cleanly on SIGTERM while it is still starting against a hung broker', async () => {
    const city = new City();
    try {
      await city.setup(0);
      city.broker.freeze();
      const child = await city.collector(
        'c-early',
        await pgliteStore(join(city.t.dir, 'platform')),
        [],
        false,
      );
      const exited = once(child, 'exit').then(() => undefined);
      // Somewhere in its start-up (migrations or the MQTT connect that never completes): either way a clean stop.
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(child.exitCode, null, `exited on its own: ${city.logs.get('c-early')}`);
      child.kill('SIGTERM');
      const r = await settles(exited);
      if (r === 'hung') child.kill('SIGKILL');
      assert.equal(r, 'stopped', city.logs.get('c-early'));
      assert.equal(child.exitCode, 0, `signal ${child.signalCode}; ${city.logs.get('c-early')}`);
    } finally {
      await city.close();
    }
  });
});
