// One contract, two engines: the same cases against PGlite (in-process) and the
// machine's PostgreSQL (a database of its own per run), as MQTT.js runs one suite per store.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Stream } from '../../../agent/src/core/index.js';
import { type KeyRing, verifyEnvelope } from '../../../agent/src/telemetry/index.js';
import { type IngestItem, Store, type StoreError } from '../../../platform/src/store/index.js';
import { tempDatabase } from '../../../scripts/lib/pg-temp.js';
import { ringOf, SimDevice } from '../../../scripts/lib/sim-device.js';
import { tempDir } from '../../helpers/paths.js';

const item = (ring: KeyRing, envelope: Uint8Array): IngestItem => {
  const v = verifyEnvelope(envelope, ring);
  return { batch: v.batch, keyId: v.keyId, payloadHash: v.payloadHash, envelope };
};

const evicted = (d: SimDevice, from: number, to: number, epoch = d.epoch) =>
  d.next(Stream.EVENTS, [
    {
      stream: Stream.EVENTS,
      event: {
        type: 'buffer.evicted',
        severity: 3,
        tsMs: 1_764_150_000_000,
        subject: 'outbox',
        details: {
          stream: 'telemetry',
          epoch: String(epoch),
          from_seq: String(from),
          to_seq: String(to),
          reason: 'disk',
        },
      },
    },
  ]);

const engines: { name: string; open: () => Promise<{ url: string; done: () => Promise<void> }> }[] = [
  {
    name: 'PGlite',
    open: async () => {
      const t = tempDir('edge-pglite-');
      return { url: `pglite:${t.dir}/db`, done: async () => t.cleanup() };
    },
  },
  {
    name: 'PostgreSQL',
    open: async () => {
      const db = await tempDatabase('edge_contract');
      return { url: db.url, done: db.drop };
    },
  },
];

for (const engine of engines) {
  describe(`store contract on ${engine.name}`, () => {
    let store: Store;
    let env: { url: string; done: () => Promise<void> };
    before(async () => {
      env = await engine.open();
      store = new Store({ url: env.url });
      await store.start();
    });
    after(async () => {
      await store.stop();
      await env.done();
    });

    it('migrations are versioned and applied once; a store behind is refused without migrating', async () => {
      assert.equal(await store.schemaVersion(), 1);
      assert.deepEqual((await store.migrate()).applied, []);
      const other = await engine.open();
      const bare = new Store({ url: other.url, migrate: false });
      try {
        await assert.rejects(bare.start(), (e: StoreError) => e.code === 'SCHEMA_NOT_MIGRATED');
      } finally {
        await other.done();
      }
    });

    it('stores a chain once, acks contiguous heads, and makes readings queryable by sensor and time', async () => {
      const d = new SimDevice('gw-a');
      const ring = ringOf([d]);
      const batches = [d.readings(10, 0), d.readings(10, 10), d.readings(10, 20)];
      const r = await store.ingest(batches.map((b) => item(ring, b.envelope)));
      assert.equal(r.stored, 3);
      assert.equal(r.readings, 30);
      assert.deepEqual(r.heads, [{ device: 'gw-a', stream: Stream.TELEMETRY, epoch: 1, upToSeq: 3 }]);
      const again = await store.ingest([item(ring, batches[1].envelope)]);
      assert.equal(again.duplicates, 1);
      assert.equal(again.stored, 0);
      const [n] = await store.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM readings WHERE device_id = 'gw-a' AND sensor_id = 'aq-7'
         AND ts >= to_timestamp(1764150000.010) AND ts < to_timestamp(1764150000.020)`,
      );
      assert.equal(n.n, 10);
    });

    it('a repeated seq with another payload is an alert and never overwrites', async () => {
      const d = new SimDevice('gw-b');
      const twin = new SimDevice('gw-b');
      // Same device id, same seq 1, another payload, signed by a key the registry also trusts.
      const ring = ringOf([d, twin]);
      const first = d.readings(1, 1);
      await store.ingest([item(ring, first.envelope)]);
      const r = await store.ingest([item(ring, twin.readings(1, 999).envelope)]);
      assert.equal(r.conflicts, 1);
      const rows = await store.db.query<{ kind: string }>("SELECT kind FROM alerts WHERE device_id = 'gw-b'");
      assert.deepEqual(
        rows.map((x) => x.kind),
        ['conflicting_duplicate'],
      );
      const [kept] = await store.db.query<{ envelope: Uint8Array }>(
        "SELECT envelope FROM batches WHERE device_id = 'gw-b' AND seq = 1",
      );
      assert.ok(Buffer.from(kept.envelope).equals(Buffer.from(first.envelope)));
      const [h] = await store.db.query<{ conflicts: number }>(
        "SELECT conflicts FROM chain_health WHERE device_id = 'gw-b'",
      );
      assert.equal(Number(h.conflicts), 1);
    });

    it('a gap holds the ack until it is filled; an eviction notice explains one', async () => {
      const d = new SimDevice('gw-c');
      const ring = ringOf([d]);
      const b = Array.from({ length: 6 }, (_, i) => d.readings(1, i));
      let r = await store.ingest([item(ring, b[0].envelope), item(ring, b[2].envelope)]);
      assert.equal(r.gaps, 1);
      assert.equal(r.heads[0].upToSeq, 1);
      r = await store.ingest([item(ring, b[1].envelope)]);
      assert.equal(r.reordered, 1);
      assert.equal(r.heads[0].upToSeq, 3);
      // Seqs 4 and 5 were evicted on the device; its notice says so, and 6 follows.
      r = await store.ingest([item(ring, b[5].envelope), item(ring, evicted(d, 4, 5).envelope)]);
      assert.equal(r.gapsExplained, 1);
      const tele = r.heads.find((h) => h.stream === Stream.TELEMETRY);
      assert.equal(tele?.upToSeq, 6);
      const [h] = await store.db.query<{ missing: number; explained: number }>(
        "SELECT missing, explained FROM chain_health WHERE device_id = 'gw-c' AND stream = 1",
      );
      assert.deepEqual([Number(h.missing), Number(h.explained)], [0, 2]);
    });

    it('an eviction notice sealed in a later epoch explains the gap of the older one (an outbox quarantined at run time)', async () => {
      const old = new SimDevice('gw-q', 1);
      const fresh = new SimDevice('gw-q', 2);
      const ring = ringOf([old, fresh]);
      await store.ingest([item(ring, old.readings(1, 0).envelope)]);
      old.readings(1, 1); // seq 2: accepted on the device, gone with its quarantined file
      const r = await store.ingest([item(ring, evicted(fresh, 2, 2, 1).envelope)]);
      assert.equal(r.gapsExplained, 1);
      const [h] = await store.db.query<{ missing: number; explained: number }>(
        "SELECT missing, explained FROM chain_health WHERE device_id = 'gw-q' AND stream = 1 AND epoch = 1",
      );
      assert.deepEqual([Number(h.missing), Number(h.explained)], [0, 1]);
    });

    it('one transaction: a seq twice (same and other payload), out of order, a broken link: each counted once, arrival order kept', async () => {
      const d = new SimDevice('gw-t');
      const twin = new SimDevice('gw-t');
      const ring = ringOf([d, twin]);
      const [b1, b2, b3] = [d.readings(2, 0), d.readings(2, 2), d.readings(2, 4)];
      twin.readings(1, 100);
      const t2 = twin.readings(1, 101);
      const r = await store.ingest([b3, b2, b2, t2, b1].map((b) => item(ring, b.envelope)));
      assert.deepEqual(
        [r.stored, r.duplicates, r.conflicts, r.prevHashMismatches, r.readings],
        [3, 1, 1, 0, 6],
      );
      assert.equal(r.heads[0].upToSeq, 3);
      const order = await store.db.query<{ seq: number }>(
        "SELECT seq FROM batches WHERE device_id = 'gw-t' ORDER BY arrival",
      );
      assert.deepEqual(
        order.map((x) => Number(x.seq)),
        [3, 2, 1],
      );
      // Seq 2 of the twin's chain after seq 1 of this one, both new in one transaction: one mismatch.
      const e = new SimDevice('gw-u');
      const other = new SimDevice('gw-u');
      const ring2 = ringOf([e, other]);
      other.readings(1, 50);
      const o2 = other.readings(1, 51);
      const m = await store.ingest([item(ring2, o2.envelope), item(ring2, e.readings(1, 0).envelope)]);
      assert.deepEqual([m.stored, m.prevHashMismatches, m.alerts.length], [2, 1, 1]);
      const [h] = await store.db.query<{ c: number; m: number }>(
        "SELECT contiguous AS c, prev_hash_mismatches AS m FROM chains WHERE device_id = 'gw-u'",
      );
      assert.deepEqual([Number(h.c), Number(h.m)], [2, 1]);
    });

    it('a prev_hash that does not chain is an alert', async () => {
      const d = new SimDevice('gw-d');
      const fork = new SimDevice('gw-d');
      const ring = ringOf([d, fork]);
      fork.readings(1, 100); // fork's seq 2 chains onto another seq 1
      await store.ingest([item(ring, d.readings(1, 0).envelope)]);
      const r = await store.ingest([item(ring, fork.readings(1, 101).envelope)]);
      assert.equal(r.prevHashMismatches, 1);
      const rows = await store.db.query<{ kind: string }>("SELECT kind FROM alerts WHERE device_id = 'gw-d'");
      assert.deepEqual(
        rows.map((x) => x.kind),
        ['prev_hash_mismatch'],
      );
    });

    it('concurrent transactions on one chain never race: each batch once, the head exact', async () => {
      const d = new SimDevice('gw-e');
      const ring = ringOf([d]);
      const items = Array.from({ length: 40 }, (_, i) => item(ring, d.readings(5, i * 5).envelope));
      // Interleaved halves plus overlap, committed by parallel transactions.
      const parts = [0, 1, 2, 3].map((k) => items.filter((_, i) => i % 4 === k || i % 10 === 0));
      const rs = await Promise.all(parts.map((p) => store.ingest(p)));
      assert.equal(
        rs.reduce((n, r) => n + r.stored, 0),
        40,
      );
      assert.equal(
        rs.reduce((n, r) => n + r.conflicts, 0),
        0,
      );
      const [c] = await store.db.query<{ contiguous: number; batches: number }>(
        "SELECT contiguous, batches FROM chains WHERE device_id = 'gw-e'",
      );
      assert.deepEqual([Number(c.contiguous), Number(c.batches)], [40, 40]);
      const [n] = await store.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM readings WHERE device_id = 'gw-e'",
      );
      assert.equal(n.n, 200);
    });

    it('reports: the latest of each kind per device, and the history', async () => {
      const d = new SimDevice('gw-f');
      const ring = ringOf([d]);
      const rep = (n: number, at: number) =>
        d.next(
          Stream.REPORTS,
          [
            {
              stream: Stream.REPORTS,
              report: { kind: 'audit', contentType: 'application/json', body: Buffer.from(`{"n":${n}}`) },
            },
          ],
          at,
        );
      const newer = rep(2, 1_764_150_100_000);
      const older = rep(1, 1_764_150_000_000); // sealed later, stamped earlier: must not replace the latest
      await store.ingest([item(ring, newer.envelope)]);
      await store.ingest([item(ring, older.envelope)]);
      const [latest] = await store.db.query<{ body: Uint8Array }>(
        "SELECT body FROM latest_reports WHERE device_id = 'gw-f'",
      );
      assert.equal(Buffer.from(latest.body).toString(), '{"n":2}');
      const [n] = await store.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM reports WHERE device_id = 'gw-f'",
      );
      assert.equal(n.n, 2);
    });

    it('registry: add, import again, revoke; status; retention prunes what is old', async () => {
      const d = new SimDevice('gw-g');
      await store.addDevices([{ ...d.entry, site: 'Harbour 3', lat: 51.9, lon: 4.4, groups: ['harbour'] }]);
      await store.addDevices([{ ...d.entry }]); // importing the same entry again changes nothing
      let [dev] = (await store.devices()).filter((x) => x.deviceId === 'gw-g');
      assert.deepEqual([dev.site, dev.groups, dev.keys.length], ['Harbour 3', ['harbour'], 1]);
      assert.equal(await store.revoke('gw-g', d.keyId, 'stolen'), 1);
      [dev] = (await store.devices()).filter((x) => x.deviceId === 'gw-g');
      assert.ok(dev.keys[0].revokedAt);
      assert.ok((await store.keys()).find((k) => k.keyId === d.keyId)?.revoked);
      await assert.rejects(
        store.revoke('nobody', undefined, 'x'),
        (e: StoreError) => e.code === 'UNKNOWN_DEVICE',
      );
      await store.recordStatus('gw-g', { state: 'offline', version: '0.1.0', configVersion: 3 });
      const [s] = await store.db.query<{ state: string; config_version: number }>(
        "SELECT state, config_version FROM device_status WHERE device_id = 'gw-g'",
      );
      assert.deepEqual([s.state, Number(s.config_version)], ['offline', 3]);
      await assert.rejects(
        store.setSetting('readings_retention_days', 0),
        (e: StoreError) => e.code === 'BAD_SETTING',
      );
      await store.setSetting('readings_retention_days', 30);
      const before = await store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM readings');
      const pruned = await store.prune(1_764_150_000_000 + 31 * 86_400_000);
      assert.equal(pruned.readings, before[0].n);
      assert.equal(pruned.batches, 0, 'batches are kept for their own, longer, retention');
    });
  });
}
