import { sign, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonState, readSecretFile, writeFileAtomic, writeJsonState } from '../config/index.js';
import type { CapabilityReport, Clock, EventType, Logger, Service, TimerHandle } from '../core/index.js';
import { keyIdOf } from '../telemetry/index.js';
import { checkIssued } from './certcheck.js';
import { CertUnreadableError } from './errors.js';
import { makeCsr, makeTlsKey } from './keys.js';
import { type PairFs, PairSwap } from './pair-swap.js';
import type { SigningIdentity } from './signing-key.js';

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
  /** The link's last failure code: tells a refused pair from a broker that is merely away. */
  linkError: () => string | null;
  clock: Clock;
  log: Logger;
  /** An unreadable certificate, and its repair, for the daemon's capability status. */
  report?: CapabilityReport;
  /** How often the certificate is read again. Default 1 h. */
  intervalMs?: number;
  /** A CSR not answered within this is sent again (it may have been lost in transit). Default 15 min. */
  csrTimeoutMs?: number;
  /** How long a new pair may fail to open a session, refused, before the previous pair is put back. Default 2 min. */
  probationMs?: number;
  /** For tests that crash the swap between two file operations. */
  fs?: PairFs;
}

/**
 * Link failures that mean this pair was refused: a TLS alert naming our certificate,
 * an explicit CONNACK refusal, or files that do not load. A reset or any other
 * transport error is a flaky link, which the old pair would fare no better on:
 * counting it would roll a good new pair back.
 */
const PAIR_REFUSED: ReadonlySet<string> = new Set(['CLIENT_CERT_REFUSED', 'CONNACK_REFUSED', 'TLS_FILES']);

const STATE = 'cert-state.json';
const JOURNAL = 'cert-swap.json';
const DAY = 86_400_000;

/**
 * The client certificate's lifecycle: `cert.expiring` at 30 and 7 days,
 * `cert.expired`, and renewal at two thirds of the lifetime: a new key and CSR,
 * the CSR sent signed with the device key (again after `csrTimeoutMs` without
 * an answer), the issued certificate checked and swapped in as one unit with
 * the key (`PairSwap`), the old pair kept until the new session is up and put
 * back if the broker refuses the new one.
 */
export class CertRenewal implements Service {
  readonly name = 'cert-renewal';
  private timer: TimerHandle | undefined;
  private probation: TimerHandle | undefined;
  /** Monotonic time the pending CSR was sent; null when none is out. */
  private requestedAt: number | null = null;
  private unreadable: string | null = null;
  private readonly pair: PairSwap;

  constructor(private readonly o: RenewalOptions) {
    this.pair = new PairSwap(o.certFile, o.keyFile, join(o.stateDir, JOURNAL), o.fs);
  }

  async start(): Promise<void> {
    const r = this.pair.recover();
    if (r !== 'none') this.o.log.warn({ recovery: r }, 'an interrupted certificate swap was completed');
    if (r === 'rolled-forward' || r === 'rolled-back') this.o.reconnect();
    if (this.pair.pending) this.watchProbation();
    this.check();
  }

  async stop(): Promise<void> {
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    if (this.probation) this.o.clock.clearTimeout(this.probation);
  }

  private get nextKey(): string {
    return this.pair.nextKey;
  }

  private get csrTimeoutMs(): number {
    return this.o.csrTimeoutMs ?? 15 * 60_000;
  }

  /** One pass: events for expiry, and a renewal request when it is time. */
  check(): void {
    this.schedule();
    if (!this.o.clockTrusted()) return;
    const cert = this.readCert();
    if (!cert) return;
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

  private schedule(): void {
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    const interval = this.o.intervalMs ?? 3_600_000;
    // With a CSR out, look again when it times out, not only at the next hourly pass.
    const next = this.requestedAt === null ? interval : Math.min(interval, this.csrTimeoutMs);
    this.timer = this.o.clock.setTimeout(() => this.check(), next);
  }

  /** Starts (or resends) a renewal: `identity rotate` calls this directly. */
  async renewNow(): Promise<boolean> {
    return this.renew(true);
  }

  /**
   * Expiry monitoring must never stop silently: a certificate that is missing
   * or cannot be parsed raises `cert.unreadable` (once per distinct problem).
   */
  private readCert(): X509Certificate | null {
    let problem: string;
    try {
      if (existsSync(this.o.certFile))
        return this.readable(new X509Certificate(readFileSync(this.o.certFile)));
      problem = 'missing';
    } catch (e) {
      problem = `not a certificate: ${(e as Error).message}`;
    }
    if (this.unreadable !== problem) {
      this.o.log.error({ file: this.o.certFile, problem }, 'the client certificate cannot be read');
      this.o.raise('cert.unreadable', this.o.deviceId, { file: this.o.certFile, problem });
    }
    this.unreadable = problem;
    this.o.report?.failed(new CertUnreadableError(this.o.certFile, problem));
    return null;
  }

  private readable(cert: X509Certificate): X509Certificate {
    this.unreadable = null;
    this.o.report?.recovered();
    return cert;
  }

  private renew(force = false): boolean {
    // One swap at a time: a renewal waits until the last new pair has opened a session.
    if (this.pair.pending) return false;
    if (!existsSync(this.nextKey) || force) {
      writeFileAtomic(this.nextKey, makeTlsKey(), 0o600);
      this.requestedAt = null;
    }
    const out = this.requestedAt !== null;
    if (out && !force && this.o.clock.monotonic() - (this.requestedAt ?? 0) < this.csrTimeoutMs) return true;
    if (out) this.o.log.warn({ timeoutMs: this.csrTimeoutMs }, 'no certificate came back: asking again');
    this.sendRequest().catch((e: unknown) =>
      this.o.log.error({ err: e }, 'cannot make the certificate renewal request'),
    );
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
    const sent = this.o.sendCsr(payload);
    this.requestedAt = sent ? this.o.clock.monotonic() : null;
    this.o.log.info({ sent }, 'certificate renewal requested');
    if (sent) this.schedule();
  }

  /** A chain arrived on `cert/issued`: checked, then swapped in atomically with the old pair kept aside. */
  onIssued(chainPem: string): { accepted: boolean; reason?: string } {
    if (this.pair.pending)
      return { accepted: false, reason: 'the last new pair has not opened a session yet' };
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
    this.pair.swap(chainPem, r.leaf.serialNumber);
    this.requestedAt = null;
    this.watchProbation();
    this.o.raise('cert.renewed', this.o.deviceId, {
      serial: r.leaf.serialNumber,
      validTo: new Date(r.leaf.validTo).toISOString(),
    });
    this.o.reconnect();
    return { accepted: true };
  }

  /** The new session is up: the old pair can go; a request that could not be sent goes now. */
  onUp(): void {
    if (this.pair.pending) {
      this.pair.commit();
      if (this.probation) this.o.clock.clearTimeout(this.probation);
      this.probation = undefined;
    }
    if (existsSync(this.nextKey) && this.requestedAt === null) this.renew();
  }

  /**
   * A new pair that the broker keeps refusing is put back to the previous one
   * (which worked), so a bad issuance cannot cut the gateway off. A broker that
   * is merely unreachable is waited for: the old pair would fare no better.
   */
  private watchProbation(): void {
    if (this.probation) this.o.clock.clearTimeout(this.probation);
    this.probation = this.o.clock.setTimeout(() => {
      this.probation = undefined;
      if (!this.pair.pending) return;
      const code = this.o.linkError();
      if (!code || !PAIR_REFUSED.has(code)) return this.watchProbation();
      this.pair.rollBack();
      this.o.log.error({ code }, 'the broker refused the new certificate: the previous pair is back');
      this.o.raise('cert.rolled_back', this.o.deviceId, { code });
      this.o.reconnect();
    }, this.o.probationMs ?? 120_000);
  }
}
