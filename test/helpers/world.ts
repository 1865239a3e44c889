import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { type DecodedBatch, KeyRing, verifyEnvelope } from '../../agent/src/telemetry/index.js';
import { Collector } from '../../platform/src/collector/index.js';
import { parseRegistry } from '../../platform/src/registry/index.js';
import { Store } from '../../platform/src/store/index.js';
import { type BrokerOptions, freePort, TestBroker } from '../../scripts/lib/mosquitto.js';
import { TestPki } from '../../scripts/lib/test-pki.js';
import { cli, exitOf, startDaemon, writeConfig } from './agent.js';
import { tempDir } from './paths.js';
import { pgliteStore, type StoredBatch, storedBatches } from './platform.js';
import { type DocKey, docKey, makeDoc } from './trust.js';
import { waitFor } from './wait.js';

/** Agent status as `status --json` prints it (the parts tests read). */
export interface StatusJson {
  running: boolean;
  epoch: number;
  link: {
    state: string;
    lastError: { code: string } | null;
    lastAckAt: string | null;
    delivery: { pubacked: number };
  } | null;
  buffer: {
    streams: {
      stream: string;
      lastSeq: number;
      pending: { rows: number; items: number };
      sent: { rows: number; items: number };
    }[];
    salvaged?: { rows: number; bytes: number };
  };
}

/**
 * One broker, one collector and one agent daemon with real keys and
 * certificates made by the project's own pki code: the test bench of DESIGN.md.
 */
export class World {
  readonly t = tempDir('edge-world-');
  readonly pki = new TestPki(join(this.t.dir, 'pki'));
  readonly broker: TestBroker;
  readonly agentDir = join(this.t.dir, 'agent');
  readonly deviceId: string;
  config = '';
  collector: Collector | undefined;
  /** The platform's store (PGlite in the world's folder), opened by the first collector, kept until close(). */
  store: Store | undefined;
  daemon: ChildProcess | undefined;
  registryFile = join(this.t.dir, 'registry.json');
  /** The platform's root key, pinned in the agent's config (trust.rootKey). */
  readonly root: DocKey;
  /** The collector role key that signs acks, named by `keysDocument`. */
  collectorKey: DocKey = docKey();
  /** The root-signed keys document the collector publishes retained on the device's `keys` topic. */
  keysDocument: Buffer;

  constructor(opts: { deviceId?: string; broker?: BrokerOptions; root?: DocKey } = {}) {
    this.deviceId = opts.deviceId ?? 'gw-test';
    this.broker = new TestBroker(this.t.dir, this.pki, opts.broker);
    this.root = opts.root ?? docKey();
    this.keysDocument = this.rotateCollectorKey(1, this.collectorKey);
  }

  /** A new keys document (version `version`) naming `key` as the collector key; the next collector uses both. */
  rotateCollectorKey(version: number, key: DocKey = docKey()): Buffer {
    this.collectorKey = key;
    this.keysDocument = makeDoc(
      'keys',
      version,
      { roles: { collector: { publicKeys: [key.b64] } } },
      this.root,
      {
        issuedAt: '2026-11-27T00:00:00Z',
      },
    );
    return this.keysDocument;
  }

  /** An MQTT 5 client with the collector's certificate, as the platform publishes documents and reads statuses. */
  async platformClient(clientId: string): Promise<MqttClient> {
    const c = this.pki.client('collector');
    const client = mqtt.connect(this.broker.url, {
      ca: readFileSync(this.pki.caFile),
      cert: readFileSync(c.cert),
      key: readFileSync(c.key),
      protocolVersion: 5,
      clientId,
    });
    await new Promise((r) => client.once('connect', r));
    return client;
  }

  /** Allocates the port, writes the agent's config, makes its identity and has its CSR signed. */
  async setup(extra: Record<string, unknown> = {}): Promise<void> {
    this.broker.port = await freePort();
    this.writeAgentConfig(extra);
    const r = cli(['identity', 'init'], { config: this.config });
    if (r.code !== 0) throw new Error(r.stderr);
    this.pki.signCsr(
      readFileSync(join(this.agentDir, 'data', 'identity', 'tls.csr'), 'utf8'),
      join(this.agentDir, 'gw.crt'),
    );
    const show = JSON.parse(cli(['identity', 'show', '--json'], { config: this.config }).stdout);
    writeFileSync(
      this.registryFile,
      JSON.stringify([{ deviceId: show.deviceId, signingPublicKey: show.signingPublicKey }]),
    );
  }

  writeAgentConfig(extra: Record<string, unknown> = {}, mqtt: Record<string, unknown> = {}): void {
    this.config = writeConfig(this.agentDir, {
      device: { id: this.deviceId },
      mqtt: { url: this.broker.url, ca: this.pki.caFile, cert: 'gw.crt', key: 'gw.key', ...mqtt },
      trust: { rootKey: this.root.b64 },
      batching: { telemetry: { maxItems: 100, maxDelayMs: 50 }, events: { maxItems: 50, maxDelayMs: 20 } },
      sync: {
        backoffMinMs: 100,
        backoffMaxMs: 400,
        ackTimeoutMs: 2000,
        connectTimeoutMs: 3000,
        publishTimeoutMs: 5000,
      },
      ...extra,
      ...(extra.trust ? { trust: { rootKey: this.root.b64, ...(extra.trust as object) } } : {}),
    });
  }

  /** The platform store, opened once (PGlite allows one opener per folder): collectors come and go over it. */
  async openStore(): Promise<Store> {
    if (!this.store) {
      const s = new Store({ url: await pgliteStore(join(this.t.dir, 'platform')) });
      await s.start();
      this.store = s;
    }
    return this.store;
  }

  /**
   * A platform collector (in this process) on the world's store, with the registry file
   * imported first, as `edge-platform collector --registry FILE` does.
   */
  async startCollector(
    opts: { caMode?: boolean; shareGroup?: string; registryRefreshMs?: number } = {},
  ): Promise<Collector> {
    const c = this.pki.client('collector');
    const store = await this.openStore();
    await store.addDevices(parseRegistry(readFileSync(this.registryFile, 'utf8'), this.registryFile));
    this.collector = new Collector({
      url: this.broker.url,
      ca: readFileSync(this.pki.caFile),
      cert: readFileSync(c.cert),
      key: readFileSync(c.key),
      clientId: `collector-${process.pid}`,
      shareGroup: opts.shareGroup ?? 'collectors',
      store,
      ackKey: this.collectorKey.privateKey,
      keysDocument: this.keysDocument,
      caMode: opts.caMode ? { certPem: this.pki.ca.certPem, keyPem: this.pki.ca.keyPem } : undefined,
      registryRefreshMs: opts.registryRefreshMs,
    });
    await this.collector.start();
    return this.collector;
  }

  async stopCollector(): Promise<void> {
    await this.collector?.stop();
    this.collector = undefined;
  }

  async startAgent(env: NodeJS.ProcessEnv = {}, wrap: string[] = []): Promise<ChildProcess> {
    this.daemon = await startDaemon(this.config, env, wrap);
    return this.daemon;
  }

  async stopAgent(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const d = this.daemon;
    this.daemon = undefined;
    if (!d) return;
    d.kill(signal);
    await exitOf(d);
  }

  status(): StatusJson {
    return JSON.parse(cli(['status', '--json'], { config: this.config }).stdout) as StatusJson;
  }

  /** Rows left in the agent's outbox (pending + awaiting ack). */
  bufferedRows(): number {
    return this.status().buffer.streams.reduce((n, s) => n + s.pending.rows + s.sent.rows, 0);
  }

  ingest(values: number[], sensor = 'aq-7'): { code: number | null; stderr: string } {
    const input = values
      .map((v) => JSON.stringify({ sensor, value: v, unit: 'ug/m3', ts: 1_764_150_000_000 + v }))
      .join('\n');
    return cli(['ingest'], { config: this.config, input });
  }

  /** Every batch in the platform store, in arrival order. */
  async storedBatches(): Promise<StoredBatch[]> {
    return storedBatches(await this.openStore());
  }

  /**
   * Reads the platform's store independently: verifies every stored envelope
   * again, and returns the reading values and the seqs per stream.
   */
  async stored(): Promise<{ values: number[]; seqs: Map<number, number[]> }> {
    const ring = this.registryRing();
    const rows = (await this.storedBatches()).sort(
      (a, b) => a.stream - b.stream || a.epoch - b.epoch || a.seq - b.seq,
    );
    const values: number[] = [];
    const seqs = new Map<number, number[]>();
    for (const r of rows) {
      const v = verifyEnvelope(r.envelope, ring);
      for (const rd of v.batch.readings) values.push(rd.value.value as number);
      seqs.set(r.stream, [...(seqs.get(r.stream) ?? []), r.seq]);
    }
    return { values, seqs };
  }

  /** The registry's keys, as the collector trusts them. */
  registryRing(): KeyRing {
    const ring = new KeyRing();
    const reg = JSON.parse(readFileSync(this.registryFile, 'utf8')) as {
      deviceId: string;
      signingPublicKey: string;
    }[];
    for (const d of reg) ring.add(d.deviceId, Buffer.from(d.signingPublicKey, 'base64'));
    return ring;
  }

  /** The batches of `streams` in the platform's store, in arrival order, each verified again with the registry's keys. */
  async collectorBatches(streams: number[] = [1, 2, 3]): Promise<DecodedBatch[]> {
    const ring = this.registryRing();
    return (await this.storedBatches())
      .filter((r) => streams.includes(r.stream))
      .map((r) => verifyEnvelope(r.envelope, ring).batch);
  }

  /** The security events in the platform's store (stream 2), in arrival order, verified again. */
  async collectorEvents(): Promise<DecodedBatch['events']> {
    return (await this.collectorBatches([2])).flatMap((b) => b.events);
  }

  /** Sends `values` through `edge-agent ingest` and waits until every one is in the platform's store. */
  async readingsArrive(values: number[], sensor = 'probe'): Promise<void> {
    const r = this.ingest(values, sensor);
    if (r.code !== 0) throw new Error(`ingest exited ${r.code}: ${r.stderr}`);
    await waitFor(async () => {
      const got = (await this.stored()).values;
      return values.every((v) => got.includes(v));
    }, `readings ${values[0]}..`);
  }

  async close(): Promise<void> {
    await this.stopAgent('SIGKILL');
    await this.stopCollector().catch(() => undefined);
    await this.store?.stop().catch(() => undefined);
    this.store = undefined;
    await this.broker.kill();
    this.t.cleanup();
  }
}

/** Asserts-friendly: every value in 0..n-1 exactly once? Returns the first problem or null. */
export function exactlyOnce(values: number[], n: number): string | null {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  for (let i = 0; i < n; i++) if (counts.get(i) !== 1) return `value ${i} stored ${counts.get(i) ?? 0} times`;
  if (counts.size !== n) return `${counts.size - n} unexpected values`;
  return null;
}

export const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from }, (_, i) => from + i);
