import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readJsonState, writeFileAtomic, writeJsonState } from '../config/index.js';
import type {
  CapabilityReport,
  Clock,
  EventType,
  Logger,
  Random,
  Service,
  StreamItem,
} from '../core/index.js';
import { ScheduledJob, type Severity, Stream } from '../core/index.js';
import type { Audience, TrustStore } from '../trust/index.js';
import { LAST_GOOD_FEED } from './current.js';
import { diffSoftware } from './diff.js';
import { FeedError } from './errors.js';
import { findingKey, raiseChanges, raiseFindings } from './events.js';
import { loadFeed } from './feed.js';
import { readInventory } from './inventory.js';
import { type FeedIndex, indexFeed, matchFeed } from './match.js';
import { buildSbom, serialFrom } from './sbom.js';
import { SOFTWARE_STATE, type SoftwareSummary, summarize } from './summary.js';
import type { Feed, Finding, SoftwareInventory } from './types.js';

export interface SoftwareServiceOptions {
  root: string;
  schedule: string;
  /** The signed feed an operator puts on the gateway (it may also come over MQTT). */
  feedFile: string;
  stateDir: string;
  deviceId: string;
  agentVersion: string;
  trust: () => TrustStore;
  /** Who and when a feed is judged for: its target and expiry, as a profiles bundle. */
  audience: () => Audience;
  raise: (type: EventType, subject: string, details: Record<string, string>, severity?: Severity) => void;
  submit: (items: StreamItem[]) => Promise<void>;
  clock: Clock;
  random: Random;
  log: Logger;
  report?: CapabilityReport;
  lockfile?: string;
}

/** Largest gzip-compressed SBOM report: under the 256 KiB envelope cap with room for the batch around it. */
export const MAX_SBOM_REPORT_BYTES = 200 * 1024;
interface State {
  versions: Record<string, string>;
  findings: string[];
  digest: string;
  summary?: SoftwareSummary;
}

/**
 * The gateway's own software: takes the inventory at start and on a schedule,
 * matches it against the signed vulnerability feed in force, raises
 * `software.changed` and `software.vulnerable` for what is new, and sends the
 * SBOM (CycloneDX, with the findings) as a `sbom` report when it changed.
 */
export class SoftwareService implements Service {
  readonly name = 'software';
  private readonly job: ScheduledJob;
  private feed: Feed | null = null;
  private index: FeedIndex = new Map();
  private rejected = new Map<string, string>();
  /** A feed from the topic whose expiry could not be judged yet (clock not trusted): offered again each run. */
  private deferred: Buffer | null = null;
  private running: Promise<unknown> = Promise.resolve();
  last: { inventory: SoftwareInventory; findings: Finding[] } | null = null;

  constructor(private readonly o: SoftwareServiceOptions) {
    this.job = new ScheduledJob({ ...o, name: this.name, run: () => this.runNow() });
  }

  async start(): Promise<void> {
    this.useFeed(this.loadLastGood());
    this.job.start();
    await this.job.runNow();
  }

  async stop(): Promise<void> {
    await this.job.stop();
    await this.running;
  }

  get feedVersion(): number | null {
    return this.feed?.version ?? null;
  }

  /** The last run in a few figures, the feed's age and expiry as of now (null before the first run). */
  summary(): SoftwareSummary | null {
    if (!this.last) return null;
    const refused = [...this.rejected.values()].pop();
    return summarize(this.last.inventory, this.last.findings, this.feed, this.o.clock.now(), refused);
  }

  /** A signed feed from the retained topic: used when it verifies and is newer; refused with a reason otherwise. */
  onFeedDocument(raw: Buffer): void {
    this.running = this.running.then(() => {
      if (this.offer(raw, 'mqtt')) writeFileAtomic(join(this.o.stateDir, LAST_GOOD_FEED), raw, 0o644);
      return this.scan();
    });
  }

  /** Re-reads the feed file, takes the inventory, raises what is new, reports on change. */
  runNow(): Promise<Finding[] | null> {
    const run = this.running.then(() => {
      const waiting = this.deferred;
      this.deferred = null;
      if (waiting && this.offer(waiting, 'mqtt'))
        writeFileAtomic(join(this.o.stateDir, LAST_GOOD_FEED), waiting, 0o644);
      if (existsSync(this.o.feedFile)) {
        const raw = readFileSync(this.o.feedFile);
        if (this.offer(raw, 'file')) copyFileSync(this.o.feedFile, join(this.o.stateDir, LAST_GOOD_FEED));
      }
      return this.scan();
    });
    this.running = run.catch(() => undefined);
    return run;
  }

  private loadLastGood(): Feed | null {
    const f = join(this.o.stateDir, LAST_GOOD_FEED);
    if (!existsSync(f)) return null;
    try {
      // Judged for this gateway again (a re-enrolled one may be another device); its expiry was
      // judged when it arrived: once in force it stays, shown as expired, until a newer one comes.
      const a = this.o.audience();
      return loadFeed(
        readFileSync(f),
        this.o.trust(),
        {},
        { ...a, nowMs: Number.NEGATIVE_INFINITY, clockTrusted: true },
      );
    } catch (e) {
      this.o.log.warn({ err: e }, 'the last good vulnerability feed no longer verifies');
      return null;
    }
  }

  /** Verifies a feed; a newer good one replaces the one in force. True when it did. */
  private offer(raw: Buffer, source: 'file' | 'mqtt'): boolean {
    const trust = this.o.trust();
    let feed: Feed;
    try {
      feed = loadFeed(raw, trust, {}, this.o.audience());
    } catch (e) {
      if (!(e instanceof FeedError)) throw e;
      if (e.code === 'DEFERRED' && source === 'mqtt') this.deferred = raw;
      // The retained copy of the feed in force comes back on every connect: no news.
      if (e.code === 'STALE_VERSION' && e.version === this.feed?.version) return false;
      const reason = `${e.code}: ${e.message}`;
      if (this.rejected.get(source) !== reason) {
        this.rejected.set(source, reason);
        this.o.log.warn({ source, reason }, 'vulnerability feed refused; the last good one stays in force');
        this.o.raise('vulnerabilities.rejected', source, {
          reason,
          ...(e.version !== undefined ? { version: String(e.version) } : {}),
          inForce: String(this.feed?.version ?? 'none'),
        });
      }
      return false;
    }
    this.rejected.delete(source);
    if (this.feed && feed.version <= this.feed.version) return false;
    trust.markSeen('vulnerabilities', feed.version);
    this.useFeed(feed);
    this.o.log.info(
      { version: feed.version, records: feed.records.length, source },
      'vulnerability feed in force',
    );
    return true;
  }

  private useFeed(feed: Feed | null): void {
    this.feed = feed;
    this.index = feed ? indexFeed(feed) : new Map();
  }

  private async scan(): Promise<Finding[] | null> {
    try {
      const inv = readInventory(this.o.root, { lockfile: this.o.lockfile });
      for (const w of inv.warnings) this.o.log.debug(w);
      if (inv.dpkg.state === 'corrupt')
        this.o.log.error({ problem: inv.dpkg.problem }, 'dpkg database not readable');
      const findings = matchFeed(inv, this.index);
      const file = join(this.o.stateDir, SOFTWARE_STATE);
      const before = readJsonState<State>(file);
      const versions = Object.fromEntries(
        inv.components.map((c) => [`${c.kind}:${c.name}:${c.arch ?? ''}`, c.version]),
      );
      if (before) raiseChanges(this.o.raise, diffSoftware(before.versions, versions));
      raiseFindings(this.o.raise, findings, new Set(before?.findings ?? []));
      const digest = JSON.stringify([
        this.feed?.version ?? 0,
        inv.dpkg.state,
        Object.entries(versions).sort(),
        findings.map(findingKey).sort(),
      ]);
      if (!before || before.digest !== digest) await this.report(inv, findings);
      this.last = { inventory: inv, findings };
      writeJsonState(file, {
        versions,
        findings: findings.map(findingKey),
        digest,
        summary: this.summary() ?? undefined,
      } satisfies State);
      return findings;
    } catch (e) {
      this.o.log.error({ err: e }, 'software inventory failed');
      return null;
    }
  }

  private async report(inv: SoftwareInventory, findings: Finding[]): Promise<void> {
    const json = buildSbom(inv, {
      deviceId: this.o.deviceId,
      agentVersion: this.o.agentVersion,
      nowMs: this.o.clock.now(),
      serialNumber: serialFrom(this.o.random.bytes(16)),
      findings,
      feedVersion: this.feed?.version,
    });
    const body = gzipSync(json);
    if (body.length > MAX_SBOM_REPORT_BYTES) {
      this.o.log.error(
        { bytes: body.length, max: MAX_SBOM_REPORT_BYTES },
        'SBOM too large for one report: not sent',
      );
      return;
    }
    await this.o.submit([
      {
        stream: Stream.REPORTS,
        report: { kind: 'sbom', contentType: 'application/vnd.cyclonedx+json+gzip', body },
      },
    ]);
  }
}
