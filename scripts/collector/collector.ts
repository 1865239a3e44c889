import type { KeyObject } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { STREAMS, type Stream, type StreamName, streamByName } from '../../agent/src/core/index.js';
import {
  ChainTracker,
  type KeyRing,
  keyIdOf,
  rawPublicKey,
  sealAck,
  type VerifiedBatch,
  VerifyError,
  verifyEd25519,
  verifyEnvelope,
} from '../../agent/src/telemetry/index.js';
import { signCsr } from '../pki/lib.js';
import { CollectorStore } from './store.js';

export interface CollectorOptions {
  url: string;
  ca: string | Buffer;
  cert: string | Buffer;
  key: string | Buffer;
  servername?: string;
  /** 5 (default), or 4 for brokers that speak only MQTT 3.1.1 (the demo's aedes). */
  protocolVersion?: 4 | 5;
  prefix?: string;
  clientId?: string;
  /** SQLite file of the store. */
  db: string;
  registry: { ring: KeyRing; devices: Set<string> };
  /** The collector role key (Ed25519) that signs every ack; a root-signed keys document names it. */
  ackKey: KeyObject;
  /** The root-signed keys document, published retained on each registered device's `keys` topic. */
  keysDocument?: string | Buffer;
  /** Development CA mode: answer devices' signed CSRs with certificates from this CA. */
  caMode?: { certPem: string; keyPem: string; days?: number };
  /** Longest a verified batch waits for its commit (ms); commits are batched for throughput. */
  commitDelayMs?: number;
  log?: (line: string) => void;
}

/** What the collector has seen, for its live line and `--json`. */
export interface CollectorStats {
  devices: number;
  batches: number;
  readings: number;
  events: number;
  duplicates: number;
  conflicts: number;
  gaps: number;
  gapsExplained: number;
  reordered: number;
  prevHashMismatches: number;
  rejected: Record<string, number>;
  acksSent: number;
}

interface Pending {
  device: string;
  v: VerifiedBatch;
  envelope: Buffer;
}

const KINDS = new Set(['telemetry', 'events', 'reports']);

/**
 * The reference collector: what the city's platform must do with the agent's
 * output. Verifies every envelope, stores each batch once, tracks every chain
 * and acks the highest contiguous seq once its store has committed.
 */
export class Collector {
  private client: MqttClient | undefined;
  private store!: CollectorStore;
  private tracker!: ChainTracker;
  private pending: Pending[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  readonly statuses = new Map<string, unknown>();
  readonly stats: CollectorStats = {
    devices: 0,
    batches: 0,
    readings: 0,
    events: 0,
    duplicates: 0,
    conflicts: 0,
    gaps: 0,
    gapsExplained: 0,
    reordered: 0,
    prevHashMismatches: 0,
    rejected: {},
    acksSent: 0,
  };
  private readonly prefix: string;
  private readonly seenDevices = new Set<string>();
  /** Order of arrival of stored batches (the store's `arrival` column). */
  private arrivals = 0;

  private readonly ackKeyId: string;

  constructor(private readonly opts: CollectorOptions) {
    this.prefix = opts.prefix ?? 'edge/v1';
    this.ackKeyId = keyIdOf(rawPublicKey(opts.ackKey));
  }

  async start(): Promise<void> {
    this.store = new CollectorStore(this.opts.db);
    this.tracker = new ChainTracker({
      lookup: (key, seq) => {
        const [device, stream, epoch] = key.split('/');
        return this.store.hashOf(device, Number(stream), Number(epoch), seq);
      },
    });
    for (const c of this.store.chains())
      this.tracker.restore(c.device, c.stream as Stream, c.epoch, c.contiguous);
    this.arrivals =
      this.store.db.prepare<[], { a: number | null }>('SELECT max(arrival) AS a FROM batches').get()?.a ?? 0;
    const client = mqtt.connect(this.opts.url, {
      protocolVersion: this.opts.protocolVersion ?? 5,
      clientId: this.opts.clientId ?? 'collector',
      clean: false,
      properties:
        (this.opts.protocolVersion ?? 5) === 5 ? { sessionExpiryInterval: 7 * 24 * 3600 } : undefined,
      reconnectPeriod: 1000,
      ca: this.opts.ca,
      cert: this.opts.cert,
      key: this.opts.key,
      servername: this.opts.servername,
      rejectUnauthorized: true,
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (e) => this.opts.log?.(`collector: ${e.message}`));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const p = this.prefix;
    // Retained, so an agent offline during a key rotation finds the newest document when it returns.
    if (this.opts.keysDocument !== undefined) {
      for (const device of this.opts.registry.devices)
        await client.publishAsync(`${p}/${device}/keys`, Buffer.from(this.opts.keysDocument), {
          qos: 1,
          retain: true,
        });
    }
    const topics = [`${p}/+/telemetry`, `${p}/+/events`, `${p}/+/reports`, `${p}/+/status`];
    if (this.opts.caMode) topics.push(`${p}/+/cert/csr`);
    await client.subscribeAsync(topics, { qos: 1 });
  }

  async stop(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flush();
    await this.client?.endAsync();
    this.store?.close();
  }

  /** Direct access for reports and tests. */
  get db(): CollectorStore {
    return this.store;
  }

  private reject(code: string, detail: string): void {
    this.stats.rejected[code] = (this.stats.rejected[code] ?? 0) + 1;
    this.opts.log?.(`rejected ${code}: ${detail}`);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const rest = topic.startsWith(`${this.prefix}/`) ? topic.slice(this.prefix.length + 1).split('/') : [];
    const [device, kind] = rest;
    if (rest.length === 3 && kind === 'cert' && rest[2] === 'csr') return void this.onCsr(device, payload);
    if (rest.length !== 2 || !device) return;
    if (kind === 'status') {
      try {
        this.statuses.set(device, JSON.parse(payload.toString('utf8')));
      } catch {
        this.reject('BAD_STATUS', `${device}: status is not JSON`);
      }
      return;
    }
    if (!KINDS.has(kind)) return;
    if (!this.opts.registry.devices.has(device))
      return void this.reject('UNKNOWN_DEVICE', `${device} is not in the registry`);
    let v: VerifiedBatch;
    try {
      v = verifyEnvelope(payload, this.opts.registry.ring);
    } catch (e) {
      return void this.reject(
        e instanceof VerifyError ? e.code : 'BAD_ENVELOPE',
        `${device}/${kind}: ${(e as Error).message}`,
      );
    }
    if (v.owner !== device || v.batch.deviceId !== device) {
      return void this.reject(
        'DEVICE_MISMATCH',
        `topic names ${device}, batch ${v.batch.deviceId}, key belongs to ${v.owner}`,
      );
    }
    if (v.batch.stream !== streamByName[kind as StreamName])
      return void this.reject('STREAM_MISMATCH', `${kind} topic carries stream ${v.batch.stream}`);
    this.pending.push({ device, v, envelope: payload });
    if (this.pending.length >= 500) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), this.opts.commitDelayMs ?? 20);
  }

  /** Certificates issued in CA mode, for status and tests. */
  issued = 0;

  /**
   * CA mode: a CSR request signed with the device's Ed25519 key. The signer must be
   * the registered key of the device the topic names, the request must name the
   * same device, and the CSR's CN too; then a certificate goes to `cert/issued`.
   */
  private onCsr(device: string, payload: Buffer): void {
    const ca = this.opts.caMode;
    if (!ca) return;
    try {
      const c = JSON.parse(payload.toString('utf8')) as {
        signed: string;
        signatures: { keyId: string; sig: string }[];
      };
      const signed = Buffer.from(c.signed, 'base64');
      const ok = c.signatures.some((s) => {
        const k = this.opts.registry.ring.get(s.keyId);
        return k && k.owner === device && verifyEd25519(k.key, signed, Buffer.from(s.sig, 'base64'));
      });
      if (!ok)
        return void this.reject(
          'CSR_BAD_SIGNATURE',
          `${device}: the CSR request is not signed by ${device}'s registered key`,
        );
      const req = JSON.parse(signed.toString('utf8')) as { type: string; deviceId: string; csr: string };
      if (req.type !== 'csr' || req.deviceId !== device)
        return void this.reject('CSR_DEVICE_MISMATCH', `${device}: request names ${req.deviceId}`);
      const cert = signCsr({ certPem: ca.certPem, keyPem: ca.keyPem }, req.csr, {
        expectCn: device,
        days: ca.days,
      });
      this.client?.publish(`${this.prefix}/${device}/cert/issued`, `${cert}${ca.certPem}`, { qos: 1 });
      this.issued++;
    } catch (e) {
      this.reject('CSR_INVALID', `${device}: ${(e as Error).message}`);
    }
  }

  /** One transaction for everything pending, then one ack per touched chain. */
  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0 || !this.store) return;
    const touched = new Map<string, { device: string; stream: Stream; epoch: number }>();
    const ins = this.store.db.prepare(
      'INSERT INTO batches (device, stream, epoch, seq, payload_hash, prev_hash, key_id, readings, events, envelope, received_ms, arrival) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)',
    );
    const chain = this.store.db.prepare(
      'INSERT OR REPLACE INTO chains (device, stream, epoch, contiguous) VALUES (?,?,?,?)',
    );
    const evict = this.store.db.prepare('INSERT INTO evictions VALUES (?,?,?,?,?,?)');
    const alert = this.store.db.prepare('INSERT INTO alerts VALUES (?,?,?,?)');
    this.store.db.transaction(() => {
      for (const { device, v, envelope } of batch) {
        const b = v.batch;
        touched.set(`${device}/${b.stream}/${b.epoch}`, { device, stream: b.stream, epoch: b.epoch });
        const findings = this.tracker.observe(device, b.stream, b.epoch, b.seq, b.prevHash, v.payloadHash);
        if (findings.some((f) => f.kind === 'duplicate')) {
          this.stats.duplicates++;
          continue;
        }
        if (findings.some((f) => f.kind === 'conflict')) {
          this.stats.conflicts++;
          alert.run(
            Date.now(),
            device,
            'conflicting_duplicate',
            `stream ${b.stream} epoch ${b.epoch} seq ${b.seq}`,
          );
          this.opts.log?.(
            `ALERT ${device}: seq ${b.seq} of stream ${b.stream} arrived again with a different payload`,
          );
          continue;
        }
        for (const f of findings) {
          if (f.kind === 'gap') this.stats.gaps++;
          if (f.kind === 'reordered') this.stats.reordered++;
          if (f.kind === 'prev_hash_mismatch') {
            this.stats.prevHashMismatches++;
            alert.run(
              Date.now(),
              device,
              'prev_hash_mismatch',
              `stream ${b.stream} epoch ${b.epoch} seq ${f.seq}`,
            );
          }
        }
        ins.run(
          device,
          b.stream,
          b.epoch,
          b.seq,
          v.payloadHash,
          b.prevHash,
          v.keyId,
          b.readings.length,
          b.events.length,
          envelope,
          Date.now(),
          ++this.arrivals,
        );
        this.stats.batches++;
        this.stats.readings += b.readings.length;
        this.stats.events += b.events.length;
        if (!this.seenDevices.has(device)) {
          this.seenDevices.add(device);
          this.stats.devices = this.seenDevices.size;
        }
        for (const e of b.events) {
          if (e.type !== 'buffer.evicted') continue;
          const stream = streamByName[e.details.stream as StreamName];
          const from = Number(e.details.from_seq);
          const to = Number(e.details.to_seq);
          const epoch = Number(e.details.epoch);
          if (
            !STREAMS.includes(stream) ||
            !Number.isSafeInteger(from) ||
            !Number.isSafeInteger(to) ||
            epoch !== b.epoch
          )
            continue;
          evict.run(device, stream, epoch, from, to, e.details.reason ?? '');
          this.tracker.skip(device, stream, epoch, from, to);
          this.stats.gapsExplained++;
          touched.set(`${device}/${stream}/${epoch}`, { device, stream, epoch });
        }
      }
      for (const t of touched.values())
        chain.run(t.device, t.stream, t.epoch, this.tracker.contiguous(t.device, t.stream, t.epoch));
    })();
    // Only now, with the store committed, may the agent delete its rows.
    for (const t of touched.values()) {
      const upToSeq = this.tracker.contiguous(t.device, t.stream, t.epoch);
      if (upToSeq === 0) continue;
      const ack = { deviceId: t.device, stream: t.stream, epoch: t.epoch, upToSeq };
      this.client?.publish(
        `${this.prefix}/${t.device}/ack`,
        Buffer.from(sealAck(ack, this.opts.ackKey, this.ackKeyId)),
        { qos: 1 },
      );
      this.stats.acksSent++;
    }
  }
}
