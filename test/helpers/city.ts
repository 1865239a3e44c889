// A city for platform tests: one broker, N real agents, collector processes (#15).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../../platform/src/store/index.js';
import { freePort, TestBroker } from '../../scripts/lib/mosquitto.js';
import { TestPki } from '../../scripts/lib/test-pki.js';
import { cli, exitOf, startDaemon, writeConfig } from './agent.js';
import { repoRoot, tempDir } from './paths.js';
import { docKey, makeDoc } from './trust.js';
import { waitFor } from './wait.js';
import { exactlyOnce, range, type StatusJson } from './world.js';

const PLATFORM = join(repoRoot, 'bin', 'edge-platform.js');

/** One broker, N agents with real identities, and the files a collector process needs. */
export class City {
  readonly t = tempDir('edge-city-');
  readonly pki = new TestPki(join(this.t.dir, 'pki'));
  readonly broker = new TestBroker(this.t.dir, this.pki);
  readonly root = docKey();
  readonly registry = join(this.t.dir, 'registry.json');
  readonly configs: string[] = [];
  readonly daemons: (ChildProcess | undefined)[] = [];
  /** The collector role key that signs acks (a test verifies acks with it). */
  readonly collectorKey = docKey();
  /** Each collector process's stderr so far, by name. */
  readonly logs = new Map<string, string>();
  private readonly keyFile = join(this.t.dir, 'collector.key');
  private readonly keysFile = join(this.t.dir, 'keys-v1.json');

  async setup(agents: number): Promise<void> {
    this.broker.port = await freePort();
    await this.broker.start();
    writeFileSync(this.keyFile, this.collectorKey.privateKey.export({ format: 'pem', type: 'pkcs8' }), {
      mode: 0o600,
    });
    const body = { roles: { collector: { publicKeys: [this.collectorKey.b64] } } };
    writeFileSync(this.keysFile, makeDoc('keys', 1, body, this.root, { issuedAt: '2026-11-27T00:00:00Z' }));
    const entries = [];
    for (let i = 0; i < agents; i++) {
      const dir = join(this.t.dir, `agent-${i}`);
      const config = writeConfig(dir, {
        device: { id: `gw-k${i}` },
        mqtt: { url: this.broker.url, ca: this.pki.caFile, cert: 'gw.crt', key: 'gw.key' },
        trust: { rootKey: this.root.b64 },
        batching: { telemetry: { maxItems: 50, maxDelayMs: 50 } },
        sync: { backoffMinMs: 100, backoffMaxMs: 400, ackTimeoutMs: 2000, connectTimeoutMs: 3000 },
      });
      const r = cli(['identity', 'init'], { config });
      assert.equal(r.code, 0, r.stderr);
      this.pki.signCsr(readFileSync(join(dir, 'data', 'identity', 'tls.csr'), 'utf8'), join(dir, 'gw.crt'));
      const show = JSON.parse(cli(['identity', 'show', '--json'], { config }).stdout);
      entries.push({ deviceId: show.deviceId, signingPublicKey: show.signingPublicKey });
      this.configs.push(config);
    }
    writeFileSync(this.registry, JSON.stringify(entries));
  }

  /** An `edge-platform collector` process; resolves once it is subscribed (or, `started` false, once spawned). */
  async collector(name: string, store: string, extra: string[] = [], started = true): Promise<ChildProcess> {
    const c = this.pki.client('collector');
    const child = spawn(
      process.execPath,
      [
        PLATFORM,
        'collector',
        ...['--url', this.broker.url, '--ca', this.pki.caFile, '--cert', c.cert, '--key', c.key],
        ...['--collector-key', this.keyFile, '--keys', this.keysFile, '--registry', this.registry],
        ...['--store', store, '--client-id', name, '--json', ...extra],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    this.logs.set(name, '');
    child.stderr?.on('data', (d) => {
      err += d;
      this.logs.set(name, err);
    });
    child.stdout?.resume();
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`collector ${name} exited: ${err}`);
        return !started || err.includes('collector: storing in');
      },
      `collector ${name} to start`,
      90_000,
      50,
    );
    return child;
  }

  async startAgents(): Promise<void> {
    for (const config of this.configs) this.daemons.push(await startDaemon(config));
  }

  ingest(i: number, values: number[]): void {
    const input = values
      .map((v) => JSON.stringify({ sensor: 'aq-7', value: v, unit: 'ug/m3', ts: 1_764_150_000_000 + v }))
      .join('\n');
    const r = cli(['ingest'], { config: this.configs[i], input });
    assert.equal(r.code, 0, r.stderr);
  }

  status(i: number): StatusJson {
    return JSON.parse(cli(['status', '--json'], { config: this.configs[i] }).stdout) as StatusJson;
  }

  buffered(i: number): number {
    return this.status(i).buffer.streams.reduce((n, s) => n + s.pending.rows + s.sent.rows, 0);
  }

  async close(): Promise<void> {
    for (const d of this.daemons) {
      d?.kill('SIGKILL');
      if (d) await exitOf(d);
    }
    await this.broker.kill();
    this.t.cleanup();
  }
}

export const stop = async (c: ChildProcess, signal: NodeJS.Signals) => {
  c.kill(signal);
  return exitOf(c);
};

/** Every device's chains are 1..lastSeq, each batch once, each reading once; nothing alerted. */
export async function assertComplete(city: City, store: Store, perAgent: number): Promise<void> {
  for (let i = 0; i < city.configs.length; i++) {
    const device = `gw-k${i}`;
    const st = city.status(i);
    for (const s of st.buffer.streams) {
      const stream = { telemetry: 1, events: 2, reports: 3 }[s.stream] ?? 0;
      const rows = await store.db.query<{ seq: number }>(
        'SELECT seq FROM batches WHERE device_id = $1 AND stream = $2 ORDER BY seq',
        [device, stream],
      );
      assert.deepEqual(
        rows.map((r) => Number(r.seq)),
        range(1, s.lastSeq + 1),
        `${device} ${s.stream}: every seq once`,
      );
    }
    const values = await store.db.query<{ num: number }>(
      "SELECT num FROM readings WHERE device_id = $1 AND sensor_id = 'aq-7'",
      [device],
    );
    assert.equal(
      exactlyOnce(
        values.map((v) => v.num),
        perAgent,
      ),
      null,
      device,
    );
  }
  const [h] = await store.db.query<{ c: number; m: number; x: number; open: number }>(
    `SELECT sum(conflicts)::int AS c, sum(prev_hash_mismatches)::int AS m, sum(missing)::int AS x,
            sum(highest - contiguous)::int AS open FROM chain_health`,
  );
  assert.deepEqual(h, { c: 0, m: 0, x: 0, open: 0 }, 'chain health');
  const alerts = await store.db.query('SELECT kind, detail FROM alerts');
  assert.deepEqual(alerts, []);
}
