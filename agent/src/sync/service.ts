import { join } from 'node:path';
import type { Outbox, RowFigures } from '../buffer/index.js';
import { type AgentConfig, loadJsonState, writeJsonState } from '../config/index.js';
import {
  type Clock,
  type EventType,
  Every,
  type Logger,
  type Random,
  type Service,
  type Stream,
} from '../core/index.js';
import { type AckRejection, AckVerifier } from './ack-verifier.js';
import { Drain, type DrainStats } from './drain.js';
import { MqttLink, type TlsMaterial } from './link.js';
import { SYNC_STATE_FILE } from './state-file.js';
import { Topics } from './topics.js';

export interface SyncOptions {
  deviceId: string;
  /** The link's settings, as the config file holds them (the TLS files come through `tls`). */
  mqtt: Pick<
    AgentConfig['mqtt'],
    | 'url'
    | 'topicPrefix'
    | 'protocolVersion'
    | 'servername'
    | 'keepaliveS'
    | 'insecurePlaintextForDevelopment'
  >;
  sync: AgentConfig['sync'];
  /** The largest signed document accepted (trust.maxDocumentBytes): sizes the largest packet taken. */
  maxDocumentBytes: number;
  /** Where the link state is kept for `status` while the daemon is stopped. */
  stateDir: string;
  tls: () => TlsMaterial;
  /** Fields of the retained status message besides `state`. */
  statusInfo: () => { agentVersion: string; bootTime: string; configVersion: number; epoch: number };
  outbox: Outbox;
  /** A signed document arrived on the `config` topic, or (`keys`) on the retained `keys` topic. */
  onDocument?: (raw: Buffer, topic?: 'keys') => void;
  /** The current collector role keys (key id → raw key) that acks must be signed by. */
  collectorKeys: () => Map<string, Uint8Array>;
  /** Raises a security event (`sync.ack_rejected`). */
  raise: (type: EventType, subject: string, details: Record<string, string>) => void;
  /** Further retained document topics of this device (topic suffix -> handler), such as `vulnerabilities`. */
  documents?: Record<string, (raw: Buffer) => void>;
  /** The link came up (a session with the broker exists). */
  onUp?: () => void;
  /** A certificate chain arrived on `cert/issued`. */
  onCertIssued?: (pem: string) => void;
  clock: Clock;
  random: Random;
  log: Logger;
}

/** What `status` shows of the upstream link. */
export interface SyncStatus {
  url: string;
  state: string;
  connectedSince: string | null;
  lastError: { code: string; message: string; at: string } | null;
  lastPubackAt: string | null;
  lastAckAt: string | null;
  delivery: DrainStats;
  /** Acks that deleted nothing, by reason; whether any collector key is known to check them. */
  acks: { rejected: Partial<Record<AckRejection, number>>; collectorKey: boolean };
}

/** The longest certificate chain taken on `cert/issued`. */
export const MAX_CERT_CHAIN_BYTES = 64 * 1024;
/** Room in a packet for its fixed header, topic and MQTT 5 properties around a payload. */
export const PACKET_OVERHEAD_BYTES = 4096;
const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

/** Sync: the only part that talks MQTT upstream. It owns no data: the outbox is the outbox. */
export class Sync implements Service {
  readonly name = 'sync';
  readonly topics: Topics;
  private readonly link: MqttLink;
  private readonly drain: Drain;
  private readonly acks: AckVerifier;
  private persistTimer: Every | undefined;
  private lastPersisted = '';

  constructor(private readonly opts: SyncOptions) {
    const { mqtt: m, sync: s, clock, random, log } = opts;
    this.topics = new Topics(m.topicPrefix, opts.deviceId);
    const status = (state: 'online' | 'offline') => () => ({
      topic: this.topics.status,
      payload: JSON.stringify({ state, ...opts.statusInfo() }),
    });
    this.link = new MqttLink({
      url: m.url,
      protocolVersion: m.protocolVersion,
      servername: m.servername,
      keepaliveS: m.keepaliveS,
      insecurePlaintext: m.insecurePlaintextForDevelopment,
      clientId: opts.deviceId,
      tls: opts.tls,
      will: status('offline'),
      birth: status('online'),
      goodbye: status('offline'),
      maxPacketBytes: Math.max(opts.maxDocumentBytes, MAX_CERT_CHAIN_BYTES) + PACKET_OVERHEAD_BYTES,
      subscriptions: [
        this.topics.ack,
        this.topics.keys,
        this.topics.config,
        `${m.topicPrefix}/${opts.deviceId}/cert/issued`,
        ...Object.keys(opts.documents ?? {}).map((t) => `${m.topicPrefix}/${opts.deviceId}/${t}`),
      ],
      connectTimeoutMs: s.connectTimeoutMs,
      backoffMinMs: s.backoffMinMs,
      backoffMaxMs: s.backoffMaxMs,
      clock,
      random,
      log: log.child({ part: 'link' }),
    });
    this.acks = new AckVerifier({
      deviceId: opts.deviceId,
      collectorKeys: opts.collectorKeys,
      head: (stream) => opts.outbox.head(stream),
      salvaged: (stream, epoch) => opts.outbox.salvage.head(stream, epoch),
      raise: opts.raise,
      log: log.child({ part: 'acks' }),
    });
    this.drain = new Drain({
      outbox: opts.outbox,
      topics: this.topics,
      ...s,
      verifyAck: (payload) => this.acks.accept(payload),
      clock,
      log: log.child({ part: 'drain' }),
    });
  }

  async start(): Promise<void> {
    this.checkPersisted();
    this.link.on('up', (client, receiveMaximum) => {
      this.drain.attach(client, receiveMaximum);
      this.persist();
      this.opts.onUp?.();
    });
    this.link.on('down', () => {
      this.drain.detach();
      this.persist();
    });
    this.link.on('message', (topic, payload) => {
      if (topic === this.topics.ack) this.drain.onAck(payload);
      else if (topic === this.topics.keys && payload.length > 0) this.opts.onDocument?.(payload, 'keys');
      else if (topic === this.topics.config && payload.length > 0) this.opts.onDocument?.(payload);
      else if (topic.endsWith('/cert/issued') && payload.length > 0 && payload.length < MAX_CERT_CHAIN_BYTES)
        this.opts.onCertIssued?.(payload.toString('utf8'));
      else if (payload.length > 0) {
        const suffix = topic.slice(this.topics.config.length - 'config'.length);
        const docs = this.opts.documents;
        if (docs && Object.hasOwn(docs, suffix)) docs[suffix](payload);
      }
    });
    await this.drain.start();
    await this.link.start();
    this.persistTimer = new Every(this.opts.clock, 2000, () => this.persist());
    this.persistTimer.start();
  }

  async stop(): Promise<void> {
    this.persistTimer?.stop();
    await this.drain.stop();
    await this.link.stop();
    this.persist();
  }

  get connected(): boolean {
    return this.link.connected;
  }

  /** Drops the session and connects again at once (new TLS files, say). */
  reconnect(): void {
    this.link.reconnect();
  }

  /** Publishes a small JSON status (QoS 1, not retained) on `{prefix}/{device}/{sub}`; false when offline. */
  publishJson(sub: string, value: unknown): boolean {
    return this.link.publish(
      `${this.opts.mqtt.topicPrefix}/${this.opts.deviceId}/${sub}`,
      JSON.stringify(value),
    );
  }

  /** New rows were committed: try to send them now. */
  kick(): void {
    this.drain.kick();
  }

  /** `sync-now`: rows PUBACKed but not yet acked are sent again at once. */
  syncNow(): void {
    this.drain.syncNow();
  }

  /** Rows of `stream` the broker took that wait for the collector's ack (the `sent` column of `status`). */
  delivered(stream: Stream): RowFigures {
    return this.drain.ledger.delivered(stream);
  }

  status(): SyncStatus {
    const d = this.drain.stats();
    const e = this.link.lastError;
    return {
      url: this.opts.mqtt.url,
      state: this.link.state,
      connectedSince: iso(this.link.connectedAt),
      lastError: e ? { code: e.code, message: e.message, at: iso(e.at) ?? '' } : null,
      lastPubackAt: iso(d.lastPubackAt),
      lastAckAt: iso(d.lastAckAt),
      delivery: d,
      acks: { rejected: { ...this.acks.rejected }, collectorKey: this.acks.hasCollectorKey },
    };
  }

  /**
   * The state file is only shown (by `status` with the daemon stopped) and written
   * afresh, but a corrupt one is still quarantined and reported like every state
   * file: overwritten in silence, the damage would go unseen.
   */
  private checkPersisted(): void {
    const file = join(this.opts.stateDir, SYNC_STATE_FILE);
    try {
      this.loadPersisted(file);
    } catch (err) {
      // Unreadable (not corrupt): the next write replaces it or fails in its own turn; the link never waits on it.
      this.opts.log.warn({ err }, `cannot read ${SYNC_STATE_FILE}`);
    }
  }

  private loadPersisted(file: string): void {
    loadJsonState<SyncStatus>(file, {
      stamp: this.opts.clock.now(),
      valid: (v) => typeof (v as Partial<SyncStatus> | null)?.state === 'string',
      onCorrupt: (aside, reason) => {
        this.opts.log.error({ aside, reason }, `${SYNC_STATE_FILE} is corrupt: quarantined`);
        this.opts.raise('agent.state_quarantined', SYNC_STATE_FILE, {
          aside,
          reason,
          loss: 'the last link state shown by status with the daemon stopped (written afresh)',
        });
      },
    });
  }

  /** Keeps the link state on disk (only when it changed) so `status` can show it with the daemon stopped. */
  private persist(): void {
    const s = JSON.stringify(this.status());
    if (s === this.lastPersisted) return;
    this.lastPersisted = s;
    try {
      writeJsonState(join(this.opts.stateDir, SYNC_STATE_FILE), JSON.parse(s));
    } catch (e) {
      this.opts.log.warn({ err: e }, 'cannot persist the sync state');
    }
  }
}
