import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Report, Stream, type StreamItem, silentLogger } from '../../agent/src/core/index.js';
import type { Assessed } from '../../agent/src/sensors/index.js';
import {
  buildSbom,
  type Finding,
  indexFeed,
  matchFeed,
  readInventory,
  serialFrom,
  type VulnRecord,
} from '../../agent/src/software/index.js';
import { type KeyRing, verifyEnvelope } from '../../agent/src/telemetry/index.js';
import { Console, type ConsoleOptions, MIN_KDF, usersAdd } from '../../platform/src/console/index.js';
import { GZIP_SBOM } from '../../platform/src/console/software/index.js';
import type { Store } from '../../platform/src/store/index.js';
import { ringOf, SimDevice } from '../../scripts/lib/sim-device.js';
import { TestPki } from '../../scripts/lib/test-pki.js';
import { City, stop } from './city.js';
import { ConsoleClient } from './console.js';
import { tempDir } from './paths.js';
import { type TestDb, testStore } from './platform-db.js';
import { IMAGE } from './software.js';

/**
 * Gateways for the console's tests: the agent's own seal code, batches verified and
 * stored by the platform's own ingest, so alerts come from what a real agent sends.
 */
export class Fleet {
  readonly devices = new Map<string, SimDevice>();
  private ring: KeyRing = ringOf([]);
  /** The sealing time of the batches sent from now on (the agent's clock), ms. */
  sealAt = 1_764_150_000_000;

  constructor(private readonly store: Store) {}

  async add(
    id: string,
    extra: { site?: string; lat?: number; lon?: number; certExpiresAt?: string } = {},
  ): Promise<SimDevice> {
    const d = new SimDevice(id);
    this.devices.set(id, d);
    this.ring = ringOf([...this.devices.values()]);
    await this.store.addDevices([{ ...d.entry, ...extra }]);
    return d;
  }

  /** Seals and stores one batch; returns its seq. */
  async send(id: string, stream: Stream, items: StreamItem[]): Promise<number> {
    const sealed = this.dev(id).next(stream, items, this.sealAt);
    await this.ingest(sealed.envelope);
    return sealed.seq;
  }

  /** Seals a batch without storing it (to make a gap). */
  seal(id: string, stream: Stream, items: StreamItem[]): Uint8Array {
    return this.dev(id).next(stream, items).envelope;
  }

  async ingest(envelope: Uint8Array): Promise<void> {
    const v = verifyEnvelope(envelope, this.ring);
    await this.store.ingest([{ batch: v.batch, keyId: v.keyId, payloadHash: v.payloadHash, envelope }]);
  }

  event(
    id: string,
    type: string,
    subject: string,
    details: Record<string, string> = {},
    severity = 4,
  ): Promise<number> {
    return this.send(id, Stream.EVENTS, [
      {
        stream: Stream.EVENTS,
        event: { type, severity: severity as 4, tsMs: 1_764_150_000_000, subject, details },
      },
    ]);
  }

  /** Numeric readings of one sensor, [tsMs, value] each, in one telemetry batch. */
  readings(id: string, sensorId: string, unit: string, values: [number, number][]): Promise<number> {
    return this.send(
      id,
      Stream.TELEMETRY,
      values.map(([tsMs, value]) => ({
        stream: Stream.TELEMETRY,
        reading: { sensorId, tsMs, unit, value: { kind: 'number', value }, labels: {} },
      })),
    );
  }

  /** A report: JSON of `body`, or `body`'s bytes as they are (with their content type). */
  report(
    id: string,
    kind: Report['kind'],
    body: unknown,
    contentType: Report['contentType'] = 'application/json',
  ): Promise<number> {
    const bytes =
      body instanceof Uint8Array
        ? body
        : typeof body === 'string'
          ? Buffer.from(body)
          : Buffer.from(JSON.stringify(body));
    return this.send(id, Stream.REPORTS, [
      { stream: Stream.REPORTS, report: { kind, contentType, body: bytes } },
    ]);
  }

  /**
   * The SBOM report a gateway on the fixture image (Debian 12, a few hundred packages)
   * sends when judged against `records`: the agent's own inventory, matching and
   * CycloneDX code, gzipped as the agent sends it. Returns the findings it carries.
   */
  async sbom(
    id: string,
    records: VulnRecord[],
    feedVersion = 7,
  ): Promise<{ seq: number; findings: Finding[] }> {
    const inv = readInventory(IMAGE);
    const findings = matchFeed(inv, indexFeed({ records }));
    const json = buildSbom(inv, {
      deviceId: id,
      agentVersion: '0.1.0',
      nowMs: 1_764_150_000_000,
      serialNumber: serialFrom(randomBytes(16)),
      findings,
      feedVersion,
    });
    const seq = await this.report(id, 'sbom', gzipSync(json), GZIP_SBOM);
    return { seq, findings };
  }

  private dev(id: string): SimDevice {
    const d = this.devices.get(id);
    if (!d) throw new Error(`no simulated device ${id}`);
    return d;
  }
}

/** The console tests' operator and viewer accounts. */
export const TEST_USERS = {
  op: { role: 'operator', password: 'lamp-post kilowatt 7' },
  view: { role: 'viewer', password: 'river bench ladder 3' },
} as const;

/** Adds the named test accounts, hashed at the lowest accepted KDF cost (the tests are not about its cost). */
export async function addTestUsers(db: TestDb['db'], names: (keyof typeof TEST_USERS)[]): Promise<void> {
  for (const username of names) {
    const u = TEST_USERS[username];
    await usersAdd(db, { username, role: u.role, password: u.password, by: 'test' }, { kdf: MIN_KDF });
  }
}

/** A temp folder with the test PKI, whose CA a client pins. */
export function consolePki(prefix: string): { pki: TestPki; ca: string; cleanup: () => void } {
  const tmp = tempDir(prefix);
  const pki = new TestPki(join(tmp.dir, 'pki'));
  return { pki, ca: readFileSync(pki.caFile, 'utf8'), cleanup: tmp.cleanup };
}

/** A console on the test database with the PKI's server certificate, on a free port (not started). */
export function testConsole(db: TestDb['db'], pki: TestPki, extra: Partial<ConsoleOptions> = {}): Console {
  return new Console({
    db,
    log: silentLogger(),
    cert: readFileSync(pki.server.cert),
    key: readFileSync(pki.server.key),
    port: 0,
    kdf: MIN_KDF,
    ...extra,
  });
}

/**
 * Real agents for the console: `edge-agent run` processes with a cabinet-door switch
 * (a GPIO value file), through the City's TLS Mosquitto into the console's database by
 * an `edge-platform collector` process. The agents are gw-k0, gw-k1, ...
 */
export class AgentStreet {
  readonly city = new City();
  private collector: ChildProcess | undefined;

  /** The door switch file of agent `i` ("0" closed, "1" open). */
  door(i: number): string {
    return join(this.city.t.dir, `gpio17-k${i}`);
  }

  async start(agents: number, storeUrl: string): Promise<void> {
    await this.city.setup(agents);
    this.city.configs.forEach((config, i) => {
      writeFileSync(this.door(i), '0\n');
      const cfg = JSON.parse(readFileSync(config, 'utf8'));
      cfg.monitor = { ...cfg.monitor, door: { path: this.door(i) } };
      writeFileSync(config, JSON.stringify(cfg, null, 2));
    });
    this.collector = await this.city.collector('console-collector', storeUrl);
    await this.city.startAgents();
  }

  /** Opens the cabinet door of agent `i`: the agent raises tamper.door_open. */
  openDoor(i: number): void {
    writeFileSync(this.door(i), '1\n');
  }

  async close(): Promise<void> {
    const c = this.collector;
    this.collector = undefined;
    if (c && c.exitCode === null && c.signalCode === null) await stop(c, 'SIGTERM');
    await this.city.close();
  }
}

/**
 * Feed records for the fixture image: openssl (libssl3 and openssl) known exploited with a
 * fix, zlib critical without one, an already fixed curl that must not show.
 */
export const SOFTWARE_RECORDS: VulnRecord[] = [
  {
    id: 'CVE-2024-5535',
    eco: 'deb',
    pkg: 'openssl',
    release: 'bookworm',
    ranges: [{ fixed: '3.0.14-1~deb12u1' }],
    severity: 'high',
    cvss: 9.1,
    kev: true,
    summary: 'SSL_select_next_proto buffer overread',
  },
  { id: 'CVE-2023-45853', eco: 'deb', pkg: 'zlib', ranges: [], severity: 'critical', cvss: 9.8 },
  { id: 'CVE-2020-8169', eco: 'deb', pkg: 'curl', ranges: [{ fixed: '7.71.0-1' }], severity: 'medium' },
];

/** An inventory report body as the agent's sensor audit sends it: a street cabinet's peripherals, judged. */
export function cabinetInventory(takenAtMs: number): { takenAt: string; devices: Assessed[]; changes: [] } {
  const usb = (location: string, model: string, firmware: string) => ({
    fingerprint: `fp-${location}`,
    bus: 'usb' as const,
    location,
    vendorId: '2c7c',
    productId: '0125',
    model,
    firmware,
  });
  return {
    takenAt: new Date(takenAtMs).toISOString(),
    changes: [],
    devices: [
      { ...usb('1-1.1', 'Quectel EG25-G', '3.18'), verdict: 'approved', cves: [] },
      {
        ...usb('1-1.2', 'Quectel RG502Q-EA', '4.14'),
        verdict: 'vulnerable',
        cves: [{ id: 'CVE-2024-22512', severity: 'high' }],
        note: 'fixed in firmware 4.20',
      },
      { ...usb('1-1.3', 'u-blox GNSS receiver', '3.01'), verdict: 'unknown-model', cves: [] },
    ],
  };
}

/** The API tests' setup: a console on a fresh store seeded by `seed`, and a logged-in viewer. */
export class ViewerWorld {
  t!: TestDb;
  app!: Console;
  fleet!: Fleet;
  viewer!: ConsoleClient;
  ca = '';
  private cleanup: () => void = () => undefined;

  async start(
    prefix: string,
    kind: 'postgres' | 'pglite',
    seed: (fleet: Fleet, t: TestDb) => Promise<void>,
  ): Promise<void> {
    const tls = consolePki(prefix);
    this.cleanup = tls.cleanup;
    this.ca = tls.ca;
    this.t = await testStore(kind);
    await addTestUsers(this.t.db, ['view']);
    this.fleet = new Fleet(this.t.store);
    await seed(this.fleet, this.t);
    this.app = testConsole(this.t.db, tls.pki);
    await this.app.start();
    this.viewer = new ConsoleClient(this.app.url, tls.ca);
    const r = await this.viewer.login('view', TEST_USERS.view.password);
    if (r.status !== 200) throw new Error(`viewer login: ${r.status} ${r.text}`);
  }

  async close(): Promise<void> {
    await this.app?.stop();
    await this.t?.close();
    this.cleanup();
  }
}
