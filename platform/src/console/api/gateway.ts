import { checksOf } from '../compliance/index.js';
import { sensorInventory, telemetry } from '../gateway/index.js';
import { type App, DEVICE_PARAMS, intQuery, notFound, queryInt } from '../http/index.js';
import { softwareOf } from '../software/index.js';
import type { ApiContext } from './context.js';

/** One gateway: registry facts, posture checks with their ETSI/IEC references, chain health, recent events. */
export function gatewayRoutes(app: App, ctx: ApiContext): void {
  const opts = { config: { role: 'viewer' as const }, schema: { params: DEVICE_PARAMS } };
  app.get<{ Params: { id: string } }>('/api/v1/gateways/:id', opts, async (req) => {
    const id = req.params.id;
    const [device] = await ctx.db.query<Record<string, unknown>>(
      `SELECT d.device_id AS "deviceId", d.site, d.lat, d.lon, d.groups, d.cert_fingerprint AS "certFingerprint",
             d.cert_expires_at AS "certExpiresAt", d.revoked_at AS "revokedAt", s.state, s.agent_version AS "agentVersion",
             s.config_version AS "configVersion", s.updated_at AS "statusAt"
           FROM devices d LEFT JOIN device_status s ON s.device_id = d.device_id WHERE d.device_id = $1`,
      [id],
    );
    if (!device) throw notFound(`gateway ${id}`);
    const [audit] = await ctx.db.query<{
      body: Uint8Array;
      created_at: Date;
      epoch: number;
      seq: number;
      score: number | null;
    }>(
      `SELECT body, created_at, epoch, seq, console_report_score(body) AS score FROM latest_reports
           WHERE device_id = $1 AND kind = 'audit'`,
      [id],
    );
    const chains = await ctx.db.query(
      `SELECT stream, epoch, contiguous, highest, batches, explained, missing, duplicates, conflicts,
             prev_hash_mismatches AS "prevHashMismatches", updated_at AS "updatedAt"
           FROM chain_health WHERE device_id = $1 ORDER BY stream, epoch`,
      [id],
    );
    const events = await ctx.db.query(
      `SELECT ts, type, severity, subject, details, count, epoch, seq FROM security_events
           WHERE device_id = $1 ORDER BY ts DESC LIMIT 100`,
      [id],
    );
    return {
      gateway: device,
      posture: audit
        ? {
            score: audit.score,
            reportedAt: new Date(audit.created_at).toISOString(),
            // The signed batch the report came in: an auditor checks it against the chain.
            source: { stream: 'reports', epoch: Number(audit.epoch), seq: Number(audit.seq) },
            checks: checksOf(audit.body),
          }
        : null,
      // Sensors with their firmware verdicts, from the latest inventory report.
      sensors: await sensorInventory(ctx.db, id),
      chains,
      events,
      // The gateway's own software (#17): SBOM summary and vulnerable packages, or null.
      software: await softwareOf(ctx.db, id),
    };
  });

  app.get<{ Params: { id: string }; Querystring: { hours?: string; buckets?: string } }>(
    '/api/v1/gateways/:id/telemetry',
    {
      config: { role: 'viewer' },
      schema: {
        params: DEVICE_PARAMS,
        querystring: { ...intQuery('hours', 'buckets'), additionalProperties: false },
      },
    },
    async (req) => {
      const hours = queryInt(req.query.hours, 'hours', 24, 1, 24 * 366);
      const buckets = queryInt(req.query.buckets, 'buckets', 96, 2, 1000);
      return telemetry(ctx.db, req.params.id, { hours, buckets });
    },
  );
}
