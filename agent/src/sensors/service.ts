import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CapabilityReport, Clock, EventType, Logger, Service, StreamItem } from '../core/index.js';
import { ScheduledJob, Stream } from '../core/index.js';
import type { Audience, TrustStore } from '../trust/index.js';
import { assess } from './assess.js';
import { diffInventory, type InventoryChange } from './diff.js';
import { discover } from './discover.js';
import { loadProfilesBundle, type Profile } from './profiles.js';
import { InventoryStore, isCorrupt } from './store.js';
import type { Assessed } from './types.js';

export interface SensorServiceOptions {
  root: string;
  schedule: string;
  declared: { id: string; model: string; location?: string }[];
  bundleFile: string;
  stateDir: string;
  trust: () => TrustStore;
  /** This gateway and its clock: a bundle for other gateways, or expired, is refused. */
  audience: () => Audience;
  raise: (type: EventType, subject: string, details: Record<string, string>) => void;
  submit: (items: StreamItem[]) => Promise<void>;
  clock: Clock;
  log: Logger;
  /** Failed and recovered runs, for the daemon's capability status. */
  report?: CapabilityReport;
}

const EVENT: Record<InventoryChange['kind'], EventType> = {
  added: 'sensor.added',
  removed: 'sensor.removed',
  replaced: 'sensor.replaced',
  moved: 'sensor.moved',
  firmware_changed: 'sensor.firmware_changed',
};

/** Loads a profiles bundle, keeping the last good one when the new one is refused. */
export function profilesFrom(
  bundleFile: string,
  stateDir: string,
  trust: TrustStore,
  audience: Audience,
  onRejected?: (reason: string) => void,
): { version: number; profiles: Profile[] } | null {
  const lastGood = join(stateDir, 'profiles.last-good.json');
  if (existsSync(bundleFile)) {
    try {
      const b = loadProfilesBundle(readFileSync(bundleFile), trust, audience);
      copyFileSync(bundleFile, lastGood);
      trust.markSeen('profiles', b.version);
      return b;
    } catch (e) {
      onRejected?.(`${(e as { code?: string }).code ?? 'INVALID'}: ${(e as Error).message}`);
    }
  }
  if (!existsSync(lastGood)) return null;
  try {
    return loadProfilesBundle(readFileSync(lastGood), trust, audience);
  } catch {
    return null;
  }
}

/**
 * The sensor inventory: discovers what is attached, judges it against the signed
 * firmware profiles, raises an event for each change and verdict worth one, and
 * sends the inventory as a report on a schedule and whenever it changes.
 */
export class SensorService implements Service {
  readonly name = 'sensors';
  private readonly job: ScheduledJob;
  private store: InventoryStore;
  private profiles: Profile[] = [];
  last: Assessed[] = [];

  constructor(private readonly o: SensorServiceOptions) {
    this.store = new InventoryStore(join(o.stateDir, 'inventory.db'));
    this.job = new ScheduledJob({ ...o, name: this.name, run: () => this.runNow(true) });
  }

  async start(): Promise<void> {
    this.store.open(this.o.clock.now(), (aside, reason) => this.quarantined(aside, reason));
    const b = profilesFrom(this.o.bundleFile, this.o.stateDir, this.o.trust(), this.o.audience(), (reason) =>
      this.o.raise('profiles.rejected', 'profiles', { reason }),
    );
    this.profiles = b?.profiles ?? [];
    this.job.start();
    await this.job.runNow();
  }

  async stop(): Promise<void> {
    await this.job.stop();
    this.store.close();
  }

  /** The stored inventory; a file that went corrupt while running is quarantined and starts afresh. */
  private loadStored(): Assessed[] | null {
    try {
      return this.store.load();
    } catch (e) {
      if (!isCorrupt(e)) throw e;
      this.store.close();
      this.store.open(this.o.clock.now(), (aside, reason) => this.quarantined(aside, reason));
      return null;
    }
  }

  private quarantined(aside: string, reason: string): void {
    this.o.log.error({ aside, reason }, 'inventory.db is corrupt: quarantined, the inventory starts afresh');
    this.o.raise('agent.state_quarantined', 'inventory.db', {
      aside,
      reason,
      loss: 'the last inventory (changes since it are not reported)',
    });
  }

  async runNow(report: boolean): Promise<InventoryChange[]> {
    const { devices, ports, warnings } = discover(this.o.root, this.o.declared);
    for (const w of warnings) this.o.log.warn(w);
    const present = new Set([
      ...ports,
      ...devices.filter((d) => d.bus !== 'declared').map((d) => d.location),
    ]);
    const now = assess(devices, this.profiles, this.o.clock.now(), present);
    const before = this.loadStored();
    const changes = before ? diffInventory(before, now) : [];
    for (const c of changes) {
      this.o.raise(EVENT[c.kind], c.device.location, {
        bus: c.device.bus,
        model: c.device.model ?? `${c.device.vendorId ?? '?'}:${c.device.productId ?? '?'}`,
        ...(c.before
          ? { before: c.kind === 'moved' ? c.before.location : (c.before.firmware ?? c.before.serial ?? '') }
          : {}),
      });
    }
    const judged = new Map((before ?? []).map((d) => [d.fingerprint, d.verdict]));
    for (const d of now) {
      if (judged.get(d.fingerprint) === d.verdict) continue;
      if (d.verdict === 'vulnerable')
        this.o.raise('sensor.vulnerable', d.location, {
          model: d.model ?? '',
          cves: d.cves.map((c) => c.id).join(','),
          firmware: d.firmware ?? 'unknown',
        });
      if (d.verdict === 'unknown-model')
        this.o.raise('sensor.unknown', d.location, {
          bus: d.bus,
          ids: `${d.vendorId ?? '-'}:${d.productId ?? '-'}`,
        });
      if (d.verdict === 'declared-missing')
        this.o.raise('sensor.removed', d.location, { declared: d.sensorId ?? '', model: d.model ?? '' });
    }
    if (report || changes.length > 0) {
      const body = Buffer.from(
        JSON.stringify({
          takenAt: new Date(this.o.clock.now()).toISOString(),
          devices: now,
          changes: changes.map((c) => ({ kind: c.kind, location: c.device.location })),
        }),
      );
      await this.o.submit([
        { stream: Stream.REPORTS, report: { kind: 'inventory', contentType: 'application/json', body } },
      ]);
    }
    // Saved only once the report carrying the change is accepted: a failed submit reports it again.
    this.store.save(now);
    this.last = now;
    return changes;
  }
}
