import type { App } from '../http/index.js';
import { refreshSoftware } from '../software/index.js';
import type { ApiContext } from './context.js';

export interface GatewayRow {
  deviceId: string;
  site: string | null;
  lat: number | null;
  lon: number | null;
  state: string;
  lastSeen: string | null;
  agentVersion: string | null;
  postureScore: number | null;
  openAlerts: number;
  worstSeverity: string | null;
  vulnerableSensors: number;
  missingBatches: number;
  revoked: boolean;
  /** From the latest SBOM report (#17); null without one. */
  software: {
    components: number;
    vulnerablePackages: number;
    kevPackages: number;
    criticalPackages: number;
    problem: string | null;
  } | null;
}

const FLEET = `
SELECT d.device_id AS "deviceId", d.site, d.lat, d.lon, d.revoked_at IS NOT NULL AS revoked,
  COALESCE(s.state, 'unknown') AS state, s.agent_version AS "agentVersion",
  GREATEST(s.updated_at, (SELECT max(c.updated_at) FROM chains c WHERE c.device_id = d.device_id)) AS "lastSeen",
  (SELECT console_report_score(r.body) FROM latest_reports r WHERE r.device_id = d.device_id AND r.kind = 'audit') AS score,
  (SELECT count(*) FROM console_alerts a WHERE a.device_id = d.device_id AND a.state <> 'resolved')::int AS "openAlerts",
  (SELECT a.severity FROM console_alerts a WHERE a.device_id = d.device_id AND a.state <> 'resolved'
     ORDER BY CASE a.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END LIMIT 1) AS "worstSeverity",
  COALESCE((SELECT console_vulnerable_sensors(r.body) FROM latest_reports r
     WHERE r.device_id = d.device_id AND r.kind = 'inventory'),
    (SELECT count(*) FROM console_alerts a WHERE a.device_id = d.device_id AND a.state <> 'resolved'
     AND a.type = 'vulnerable_firmware'))::int AS "vulnerableSensors",
  (SELECT COALESCE(sum(h.missing), 0) FROM chain_health h WHERE h.device_id = d.device_id)::int AS "missingBatches",
  CASE WHEN sw.device_id IS NULL THEN NULL ELSE json_build_object('components', sw.components,
    'vulnerablePackages', sw.vulnerable, 'kevPackages', sw.kev, 'criticalPackages', sw.critical,
    'problem', sw.problem) END AS software
FROM devices d LEFT JOIN device_status s ON s.device_id = d.device_id
  LEFT JOIN console_software sw ON sw.device_id = d.device_id
ORDER BY d.device_id`;

/** The fleet at a glance: every registered gateway with its state, posture and open alerts. */
export function fleetRoutes(app: App, ctx: ApiContext): void {
  app.get('/api/v1/fleet', { config: { role: 'viewer' } }, async () => {
    // A few new SBOMs are read here; a whole fleet's (a console starting on a big store) by the sweep.
    await refreshSoftware(ctx.db, undefined, 20);
    const rows = await ctx.db.query<
      Omit<GatewayRow, 'postureScore' | 'lastSeen'> & { score: number | null; lastSeen: Date | null }
    >(FLEET);
    const gateways: GatewayRow[] = rows.map(({ score, ...r }) => ({
      ...r,
      lastSeen: r.lastSeen ? new Date(r.lastSeen).toISOString() : null,
      postureScore: score,
    }));
    return { gateways };
  });
}
