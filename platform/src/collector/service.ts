import mqtt, { type MqttClient } from 'mqtt';
import { type StreamName, streamByName } from '../../../agent/src/core/index.js';
import {
  decodeEnvelope,
  keyIdOf,
  rawPublicKey,
  sealAck,
  type VerifiedBatch,
  VerifyError,
  verifyEnvelope,
} from '../../../agent/src/telemetry/index.js';
import {
  addChainCounts,
  type IngestItem,
  type IngestResult,
  Store,
  zeroChainCounts,
} from '../store/index.js';
import { answerCsr, CsrRefused } from './csr.js';
import { CollectorError } from './errors.js';
import { KeyDirectory } from './keys.js';
import type { CollectorOptions, CollectorStats } from './types.js';

const KINDS = new Set(['telemetry', 'events', 'reports']);
/** Transactions in flight at once; more waiting batches mean the store is slow (they wait, bounded). */
const MAX_IN_FLIGHT = 2;
/** Verified batches waiting for a transaction beyond which new ones are dropped (the agent resends). */
const MAX_WAITING = 5000;
/**
 * Verified batches waiting past which the collector stops reading from the broker: mqtt.js reads
 * the next packet (and PUBACKs this one) only once `handleMessage` calls back, so while the store
 * is behind, messages stay queued at the broker instead of being dropped here as OVERLOADED. Each
 * drop cost its agent a resend after its ack timeout: the bench's million-reading drain had about
 * 4,500 batches shed at once and took 250 s instead of 79.
 */
const HOLD_AT = 2000;
/**
 * How long a stop waits for the broker to answer the acks in flight and close the connection (ms).
 * mqtt.js's graceful end waits for both without limit, and neither comes from a broker that has
 * dropped this collector (it does not reconnect once ending) or hangs: after this the socket is cut.
 */
const END_GRACE_MS = 3000;

/**
 * One collector of the platform's ingest tier. Stateless: the chain state lives in the
 * store, so any number of collectors share the load through a shared subscription and
 * any of them may die. Verifies every envelope, stores it in one transaction with its
 * chain row locked, and publishes the signed ack only after COMMIT.
 */
export class Collector {
  private client: MqttClient | undefined;
  private store: Store | undefined;
  private owned = false;
  private keys!: KeyDirectory;
  private pending: IngestItem[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();
  /** mqtt.js callbacks held while the store is behind (at most one: it reads a packet at a time). */
  private held: (() => void)[] = [];
  private readonly seenDevices = new Set<string>();
  private readonly lastAlert = new Map<string, number>();
  private readonly prefix: string;
  private readonly ackKeyId: string;
  readonly statuses = new Map<string, unknown>();
  /** Certificates issued in CA mode. */
  issued = 0;
  readonly stats: CollectorStats = {
    devices: 0,
    batches: 0,
    ...zeroChainCounts(),
    rejected: {},
    acksSent: 0,
    transactions: 0,
    storeErrors: 0,
  };

  constructor(private readonly opts: CollectorOptions) {
    this.prefix = opts.prefix ?? 'edge/v1';
    this.ackKeyId = keyIdOf(rawPublicKey(opts.ackKey));
  }

  /** The store this collector writes (for reports and tests). */
  get db(): Store {
    if (!this.store) throw new CollectorError('NOT_STARTED', 'the collector is not started');
    return this.store;
  }

  async start(): Promise<void> {
    const s = this.opts.store;
    if (s instanceof Store) this.store = s;
    else {
      this.store = new Store({
        url: s.url,
        migrate: s.migrate,
        onError: (e) => this.log(`store: ${e.message}`),
      });
      await this.store.start();
      this.owned = true;
    }
    this.keys = new KeyDirectory(this.store);
    await this.keys.refresh();
    const v5 = (this.opts.protocolVersion ?? 5) === 5;
    const client = mqtt.connect(this.opts.url, {
      protocolVersion: this.opts.protocolVersion ?? 5,
      clientId: this.opts.clientId,
      // Stateless: whatever this process had in flight is resent by the agents (no ack came).
      clean: true,
      reconnectPeriod: 1000,
      ca: this.opts.ca,
      cert: this.opts.cert,
      key: this.opts.key,
      servername: this.opts.servername,
      rejectUnauthorized: true,
      resubscribe: true,
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.handleMessage = (_packet, done) => this.admit(done);
    // A callback held for a connection that closed must never answer on the next one.
    client.on('close', () => {
      this.held = [];
    });
    client.on('error', (e) => this.log(`collector: ${e.message}`));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', (e) =>
        reject(new CollectorError('BROKER_UNREACHABLE', `${this.opts.url}: ${e.message}`, { cause: e })),
      );
    });
    await this.publishKeys([...this.keys.devices]);
    const p = this.prefix;
    const share = (t: string) => (this.opts.shareGroup && v5 ? `$share/${this.opts.shareGroup}/${t}` : t);
    const topics = [`${p}/+/telemetry`, `${p}/+/events`, `${p}/+/reports`].map(share);
    if (this.opts.caMode) topics.push(share(`${p}/+/cert/csr`));
    // Not shared: every collector keeps the retained statuses (a shared subscription gets no retained messages).
    topics.push(`${p}/+/status`);
    await client.subscribeAsync(topics, { qos: 1 });
    this.refreshTimer = setInterval(() => void this.refresh(), this.opts.registryRefreshMs ?? 5000);
  }

  async stop(): Promise<void> {
    clearInterval(this.refreshTimer);
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await Promise.allSettled([...this.inFlight]);
    await this.flush();
    await Promise.allSettled([...this.inFlight]);
    const client = this.client;
    this.client = undefined;
    if (client) await endWithin(client, END_GRACE_MS);
    if (this.owned) await this.store?.stop();
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  private async refresh(): Promise<void> {
    try {
      await this.publishKeys(await this.keys.refresh());
    } catch (e) {
      this.log(`registry refresh: ${(e as Error).message}`);
    }
  }

  /** Retained, so an agent offline during a key rotation finds the newest document when it returns. */
  private async publishKeys(devices: string[]): Promise<void> {
    if (this.opts.keysDocument === undefined || !this.client) return;
    for (const device of devices)
      await this.client.publishAsync(`${this.prefix}/${device}/keys`, this.opts.keysDocument, {
        qos: 1,
        retain: true,
      });
  }

  private reject(code: string, detail: string, alertDevice?: string): void {
    this.stats.rejected[code] = (this.stats.rejected[code] ?? 0) + 1;
    this.log(`rejected ${code}: ${detail}`);
    if (alertDevice === undefined) return;
    // One alert row per device and reason a minute: a revoked device resending must not flood the table.
    const k = `${alertDevice}\u0000${code}`;
    const now = (this.opts.now ?? Date.now)();
    if ((this.lastAlert.get(k) ?? -Infinity) > now - 60_000) return;
    this.lastAlert.set(k, now);
    this.store
      ?.alert(alertDevice, code.toLowerCase(), detail)
      .catch((e: Error) => this.log(`alert: ${e.message}`));
  }

  private onMessage(topic: string, payload: Buffer): void {
    const rest = topic.startsWith(`${this.prefix}/`) ? topic.slice(this.prefix.length + 1).split('/') : [];
    const [device, kind] = rest;
    if (rest.length === 3 && kind === 'cert' && rest[2] === 'csr') return void this.onCsr(device, payload);
    if (rest.length !== 2 || !device) return;
    if (kind === 'status') return void this.onStatus(device, payload);
    if (!KINDS.has(kind)) return;
    if (this.keys.isRevokedDevice(device))
      return void this.reject('DEVICE_REVOKED', `${device} is revoked in the registry`, device);
    if (!this.keys.devices.has(device))
      return void this.reject('UNKNOWN_DEVICE', `${device} is not in the registry`);
    let v: VerifiedBatch;
    try {
      v = verifyEnvelope(payload, this.keys.ring);
    } catch (e) {
      const code = e instanceof VerifyError ? e.code : 'BAD_ENVELOPE';
      if (code === 'UNKNOWN_KEY') {
        const revoked = this.revokedKeyOf(payload);
        if (revoked)
          return void this.reject(
            'KEY_REVOKED',
            `${device}/${kind}: signed by the revoked key ${revoked}`,
            device,
          );
      }
      return void this.reject(code, `${device}/${kind}: ${(e as Error).message}`);
    }
    if (v.owner !== device || v.batch.deviceId !== device)
      return void this.reject(
        'DEVICE_MISMATCH',
        `topic names ${device}, batch ${v.batch.deviceId}, key belongs to ${v.owner}`,
      );
    if (v.batch.stream !== streamByName[kind as StreamName])
      return void this.reject('STREAM_MISMATCH', `${kind} topic carries stream ${v.batch.stream}`);
    if (!this.keys.validAt(v.keyId, v.batch.createdAtMs))
      return void this.reject(
        'KEY_NOT_VALID',
        `${device}/${kind}: key ${v.keyId} was not valid when the batch was sealed`,
        device,
      );
    if (this.pending.length >= MAX_WAITING)
      return void this.reject('OVERLOADED', `${device}/${kind}: the store is behind`);
    this.pending.push({ batch: v.batch, keyId: v.keyId, payloadHash: v.payloadHash, envelope: payload });
    if (this.pending.length >= (this.opts.maxBatch ?? 500)) this.kick();
    else this.flushTimer ??= setTimeout(() => this.kick(), this.opts.commitDelayMs ?? 20);
  }

  private revokedKeyOf(payload: Buffer): string | undefined {
    try {
      return this.keys.revokedKey(decodeEnvelope(payload).keyId)?.keyId;
    } catch {
      return undefined;
    }
  }

  private onStatus(device: string, payload: Buffer): void {
    let s: unknown;
    try {
      s = JSON.parse(payload.toString('utf8'));
    } catch {
      return void this.reject('BAD_STATUS', `${device}: status is not JSON`);
    }
    if (typeof s !== 'object' || s === null || Array.isArray(s))
      return void this.reject('BAD_STATUS', `${device}: status is not an object`);
    this.statuses.set(device, s);
    if (!this.keys.devices.has(device)) return;
    this.store
      ?.recordStatus(device, s as Record<string, unknown>)
      .catch((e: Error) => this.log(`status: ${e.message}`));
  }

  private onCsr(device: string, payload: Buffer): void {
    const ca = this.opts.caMode;
    if (!ca) return;
    try {
      const chain = answerCsr(device, payload, this.keys.ring, ca);
      this.client?.publish(`${this.prefix}/${device}/cert/issued`, chain, { qos: 1 });
      this.issued++;
    } catch (e) {
      this.reject(e instanceof CsrRefused ? e.code : 'CSR_INVALID', (e as Error).message);
    }
  }

  /** Starts a transaction for what is waiting, unless enough are running already. */
  private kick(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.inFlight.size >= MAX_IN_FLIGHT || this.pending.length === 0) return;
    const p = this.flush().finally(() => {
      this.inFlight.delete(p);
      if (this.pending.length > 0) this.kick();
      this.release();
    });
    this.inFlight.add(p);
    this.release();
  }

  /** Reads on from the broker now, or once the store has caught up (HOLD_AT). */
  private admit(done: () => void): void {
    if (this.pending.length < HOLD_AT) done();
    else this.held.push(done);
  }

  private release(): void {
    while (this.held.length > 0 && this.pending.length < HOLD_AT) this.held.shift()?.();
  }

  /** One transaction for what is waiting; the acks go out only after it committed. */
  private async flush(): Promise<void> {
    const batch = this.pending.splice(0, this.opts.maxBatch ?? 500);
    if (batch.length === 0 || !this.store) return;
    let r: IngestResult;
    try {
      r = await this.store.ingest(batch);
    } catch (e) {
      // No commit, no ack: the agents resend these batches after their ack timeout.
      this.stats.storeErrors++;
      this.log(`store: ${batch.length} batches not stored, not acked: ${(e as Error).message}`);
      return;
    }
    this.count(r, batch);
    for (const h of r.heads) {
      const ack = { deviceId: h.device, stream: h.stream, epoch: h.epoch, upToSeq: h.upToSeq };
      this.client?.publish(
        `${this.prefix}/${h.device}/ack`,
        Buffer.from(sealAck(ack, this.opts.ackKey, this.ackKeyId)),
        {
          qos: 1,
        },
      );
      this.stats.acksSent++;
    }
  }

  private count(r: IngestResult, batch: IngestItem[]): void {
    const s = this.stats;
    s.transactions++;
    s.batches += r.stored;
    addChainCounts(s, r);
    for (const a of r.alerts) this.log(`ALERT ${a}`);
    for (const it of batch) this.seenDevices.add(it.batch.deviceId);
    s.devices = this.seenDevices.size;
  }
}

/**
 * Ends the MQTT session, politely (DISCONNECT after the acks in flight are answered) when the
 * broker allows it within `graceMs`, else by cutting the socket. Acks lost so are resent for:
 * the agents resend what no ack answered.
 */
async function endWithin(client: MqttClient, graceMs: number): Promise<void> {
  // No connection to say goodbye on: a graceful end would wait for PUBACKs nobody sends.
  if (!client.connected) return client.endAsync(true);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), graceMs);
  });
  const ended = await Promise.race([client.endAsync().then(() => true as const), late]);
  clearTimeout(timer);
  // mqtt.js ignores a second end() once ending, so the socket is destroyed directly.
  if (!ended) client.stream.destroy();
}
