import { sign, X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonState, readSecretFile, writeFileAtomic, writeJsonState } from '../config/index.js';
import type { Clock, EventType, Logger, Service, TimerHandle } from '../core/index.js';
import { keyIdOf } from '../telemetry/index.js';
import { checkIssued } from './certcheck.js';
import { makeCsr, makeTlsKey, type SigningIdentity } from './keys.js';

export interface RenewalOptions {
  deviceId: string;
  certFile: string;
  keyFile: string;
  caFile: string;
  stateDir: string;
  /** Renew once this share of the certificate's lifetime has passed. */
  renewAt: number;
  signing: () => SigningIdentity;
  /** Whether dates can be trusted now; no decision is taken on an implausible clock. */
  clockTrusted: () => boolean;
  /** Sends the signed CSR request on `cert/csr`; false when offline (retried later). */
  sendCsr: (payload: string) => boolean;
  /** Reconnect with the files now on disk. */
  reconnect: () => void;
  raise: (type: EventType, subject: string, details: Record<string, string>) => void;
  clock: Clock;
  log: Logger;
  intervalMs?: number;
}

const STATE = 'cert-state.json';
const DAY = 86_400_000;

/**
 * The client certificate's lifecycle: `cert.expiring` at 30 and 7 days,
 * `cert.expired`, and renewal at two thirds of the lifetime: a new key and CSR,
 * the CSR sent signed with the device key, the issued certificate checked and
 * swapped in atomically, the old pair kept until the new session is up.
 */
export class CertRenewal implements Service {
  readonly name = 'cert-renewal';
  private timer: TimerHandle | undefined;
  private requested = false;
  private swapped = false;

  constructor(private readonly o: RenewalOptions) {}

  async start(): Promise<void> {
    this.check();
  }

  async stop(): Promise<void> {
    if (this.timer) this.o.clock.clearTimeout(this.timer);
  }

  private get nextKey(): string {
    return `${this.o.keyFile}.next`;
  }

  /** One pass: events for expiry, and a renewal request when it is time. */
  check(): void {
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = this.o.clock.setTimeout(() => this.check(), this.o.intervalMs ?? 3_600_000);
    if (!this.o.clockTrusted() || !existsSync(this.o.certFile)) return;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(readFileSync(this.o.certFile));
    } catch {
      return;
    }
    const now = this.o.clock.now();
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    const state = readJsonState<{ serial: string; warned: number[] }>(join(this.o.stateDir, STATE));
    const warned = state?.serial === cert.serialNumber ? state.warned : [];
    const details = { validTo: new Date(to).toISOString(), serial: cert.serialNumber };
    if (to < now) {
      if (!warned.includes(0)) this.o.raise('cert.expired', this.o.deviceId, details);
      warned.push(0);
    } else {
      // With several thresholds crossed at once (a gateway that was off), only the most urgent is news.
      const crossed = [30, 7].filter((d) => to - now <= d * DAY && !warned.includes(d));
      if (crossed.length > 0) {
        const d = Math.min(...crossed);
        this.o.raise('cert.expiring', this.o.deviceId, {
          ...details,
          days: String(d),
          daysLeft: String(Math.floor((to - now) / DAY)),
        });
        warned.push(...crossed);
      }
    }
    writeJsonState(join(this.o.stateDir, STATE), { serial: cert.serialNumber, warned: [...new Set(warned)] });
    if (now >= from + (to - from) * this.o.renewAt) this.renew();
  }

  /** Starts (or resends) a renewal: `identity rotate` calls this directly. */
  async renewNow(): Promise<boolean> {
    return this.renew(true);
  }

  private renew(force = false): boolean {
    if (!existsSync(this.nextKey) || force) {
      writeFileAtomic(this.nextKey, makeTlsKey(), 0o600);
      this.requested = false;
    }
    if (this.requested && !force) return true;
    void this.sendRequest();
    return true;
  }

  private async sendRequest(): Promise<void> {
    const csr = await makeCsr(readSecretFile(this.nextKey), this.o.deviceId);
    const id = this.o.signing();
    const signed = Buffer.from(
      JSON.stringify({
        type: 'csr',
        deviceId: this.o.deviceId,
        issuedAt: new Date(this.o.clock.now()).toISOString(),
        csr,
      }),
    );
    const payload = JSON.stringify({
      signed: signed.toString('base64'),
      signatures: [
        { keyId: keyIdOf(id.publicKey), sig: sign(null, signed, id.privateKey).toString('base64') },
      ],
    });
    this.requested = this.o.sendCsr(payload);
    this.o.log.info({ sent: this.requested }, 'certificate renewal requested');
  }

  /** A chain arrived on `cert/issued`: checked, then swapped in atomically with the old pair kept aside. */
  onIssued(chainPem: string): { accepted: boolean; reason?: string } {
    if (!existsSync(this.nextKey)) return { accepted: false, reason: 'no renewal pending' };
    const key = readSecretFile(this.nextKey);
    const r = checkIssued(
      chainPem,
      readFileSync(this.o.caFile, 'utf8'),
      key,
      this.o.deviceId,
      this.o.clock.now(),
    );
    if (!r.ok) {
      this.o.log.warn({ problem: r.problem, detail: r.detail }, 'issued certificate refused');
      this.o.raise('trust.document_rejected', 'cert/issued', { problem: r.problem, detail: r.detail });
      return { accepted: false, reason: `${r.problem}: ${r.detail}` };
    }
    copyFileSync(this.o.certFile, `${this.o.certFile}.prev`);
    copyFileSync(this.o.keyFile, `${this.o.keyFile}.prev`);
    writeFileAtomic(`${this.o.certFile}.new`, chainPem, 0o644);
    renameSync(`${this.o.certFile}.new`, this.o.certFile);
    renameSync(this.nextKey, this.o.keyFile);
    this.swapped = true;
    this.o.raise('cert.renewed', this.o.deviceId, {
      serial: r.leaf.serialNumber,
      validTo: new Date(r.leaf.validTo).toISOString(),
    });
    this.o.reconnect();
    return { accepted: true };
  }

  /** The new session is up: the old pair can go; a request that could not be sent goes now. */
  onUp(): void {
    if (existsSync(this.nextKey) && !this.requested) void this.sendRequest();
    if (!this.swapped) return;
    this.swapped = false;
    rmSync(`${this.o.certFile}.prev`, { force: true });
    rmSync(`${this.o.keyFile}.prev`, { force: true });
  }
}
