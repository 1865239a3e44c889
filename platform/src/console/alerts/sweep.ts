import type { Clock, Db } from '../types.js';
import type { AlertBook } from './book.js';
import type { AlertSeverity, SweepPolicy } from './types.js';

const DAY = 86_400_000;
const ms = (d: Date | string): number => new Date(d).getTime();

/**
 * The alerts that are states, not events: a gateway offline, a certificate near its end,
 * a chain gap nobody explained. Run periodically (and on status notifications); a state
 * seen again with the same evidence counts nothing, a new occurrence counts one.
 */
export class AlertSweep {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly book: AlertBook,
    private readonly policy: SweepPolicy,
  ) {}

  /** Returns how many alerts were raised or counted. */
  async run(): Promise<number> {
    const now = this.clock();
    let n = 0;
    const count = (id: number | null) => {
      if (id !== null) n++;
    };
    const offline = await this.db.query<{
      device_id: string;
      updated_at: Date;
      agent_version: string | null;
    }>("SELECT device_id, updated_at, agent_version FROM device_status WHERE state = 'offline'");
    for (const r of offline)
      count(
        await this.book.raise({
          deviceId: r.device_id,
          type: 'device_offline',
          subject: 'status',
          severity: 'high',
          summary: `offline since ${new Date(r.updated_at).toISOString()} (goodbye or last will)`,
          evidence: { since: new Date(r.updated_at).toISOString(), agentVersion: r.agent_version },
          atMs: ms(r.updated_at),
          repeat: false,
        }),
      );
    const certs = await this.db.query<{
      device_id: string;
      cert_expires_at: Date;
      cert_fingerprint: string | null;
    }>(
      `SELECT device_id, cert_expires_at, cert_fingerprint FROM devices
       WHERE revoked_at IS NULL AND cert_expires_at < to_timestamp($1 / 1000.0)`,
      [now + this.policy.certWarnMs],
    );
    for (const r of certs) {
      const left = ms(r.cert_expires_at) - now;
      const severity: AlertSeverity = left <= 0 ? 'critical' : left < 7 * DAY ? 'high' : 'medium';
      const when = new Date(r.cert_expires_at).toISOString();
      count(
        await this.book.raise({
          deviceId: r.device_id,
          type: 'certificate_expiring',
          subject: r.cert_fingerprint ?? 'certificate',
          severity,
          summary: left <= 0 ? `certificate expired ${when}` : `certificate expires ${when}`,
          evidence: { expiresAt: when, fingerprint: r.cert_fingerprint, expired: left <= 0 },
          atMs: now,
          repeat: false,
        }),
      );
    }
    const gaps = await this.db.query<{
      device_id: string;
      stream: number;
      epoch: number;
      missing: number;
      contiguous: number;
      highest: number;
      updated_at: Date;
    }>(
      `SELECT device_id, stream, epoch, missing, contiguous, highest, updated_at FROM chain_health
       WHERE missing > 0 AND updated_at < to_timestamp($1 / 1000.0)`,
      [now - this.policy.gapGraceMs],
    );
    for (const g of gaps)
      count(
        await this.book.raise({
          deviceId: g.device_id,
          type: 'unexplained_gap',
          subject: `stream ${g.stream} epoch ${g.epoch}`,
          severity: 'high',
          summary: `${g.missing} batch(es) missing after seq ${g.contiguous} (highest ${g.highest}), no eviction notice`,
          evidence: {
            stream: Number(g.stream),
            epoch: Number(g.epoch),
            contiguous: Number(g.contiguous),
            highest: Number(g.highest),
            missing: Number(g.missing),
          },
          atMs: ms(g.updated_at),
          repeat: false,
        }),
      );
    return n;
  }
}
