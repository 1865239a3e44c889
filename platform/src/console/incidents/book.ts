import type { AuditLog } from '../access/index.js';
import { toAlert } from '../alerts/index.js';
import { ConsoleError } from '../errors.js';
import type { Clock, Db } from '../types.js';
import { nis2Clocks } from './nis2.js';
import { type Incident, type IncidentDetail, type NewIncident, type ReportStage, RSIT } from './types.js';

interface Row {
  id: number;
  title: string;
  summary: string;
  aware_at: Date;
  created_at: Date;
  created_by: string;
  severity: Incident['severity'];
  rsit_class: string;
  rsit_type: string;
  status: Incident['status'];
  early_warning_at: Date | null;
  notification_at: Date | null;
  final_report_at: Date | null;
}

const msOf = (d: Date | null): number | null => (d === null ? null : new Date(d).getTime());
const COLUMN: Record<ReportStage, string> = {
  'early-warning': 'early_warning_at',
  notification: 'notification_at',
  'final-report': 'final_report_at',
};

/** Incidents: alerts an operator groups, with their NIS2 reporting clocks. */
export class IncidentBook {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {}

  private toIncident(r: Row): Incident {
    return {
      id: Number(r.id),
      title: r.title,
      summary: r.summary,
      awareAt: new Date(r.aware_at).toISOString(),
      createdAt: new Date(r.created_at).toISOString(),
      createdBy: r.created_by,
      severity: r.severity,
      rsitClass: r.rsit_class,
      rsitType: r.rsit_type,
      status: r.status,
      clocks: nis2Clocks(
        new Date(r.aware_at).getTime(),
        {
          'early-warning': msOf(r.early_warning_at),
          notification: msOf(r.notification_at),
          'final-report': msOf(r.final_report_at),
        },
        this.clock(),
      ),
    };
  }

  /** Opens an incident over alerts that belong to no other incident; all or nothing, logged. */
  async create(n: NewIncident, by: string, ip = ''): Promise<Incident> {
    if (!RSIT[n.rsitClass]?.includes(n.rsitType))
      throw new ConsoleError(
        'BAD_INPUT',
        `rsitType: "${n.rsitClass}/${n.rsitType}" is not in the ENISA RSIT taxonomy`,
      );
    const now = this.clock();
    return this.db.transaction(async (tx) => {
      const [r] = await tx.query<Row>(
        `INSERT INTO console_incidents (title, summary, aware_at, created_at, created_by, severity, rsit_class, rsit_type)
         VALUES ($1, $2, to_timestamp($3 / 1000.0), to_timestamp($4 / 1000.0), $5, $6, $7, $8) RETURNING *`,
        [n.title, n.summary ?? '', n.awareAtMs ?? now, now, by, n.severity, n.rsitClass, n.rsitType],
      );
      const linked = await tx.query<{ id: number }>(
        'UPDATE console_alerts SET incident_id = $1 WHERE id = ANY($2::bigint[]) AND incident_id IS NULL RETURNING id',
        [r.id, n.alertIds],
      );
      if (linked.length !== new Set(n.alertIds).size) {
        const got = new Set(linked.map((l) => Number(l.id)));
        const bad = n.alertIds.filter((id) => !got.has(id));
        throw new ConsoleError('BAD_INPUT', `alertIds: ${bad.join(', ')} unknown or already in an incident`);
      }
      await this.audit.record(
        {
          username: by,
          action: 'incident.create',
          target: `incident:${r.id}`,
          detail: { alerts: n.alertIds },
          ip,
        },
        tx,
      );
      await tx.query("SELECT pg_notify('edge_console', $1)", [
        JSON.stringify({ kind: 'incident', id: Number(r.id) }),
      ]);
      return this.toIncident(r);
    });
  }

  async list(): Promise<Incident[]> {
    const rows = await this.db.query<Row>(
      'SELECT * FROM console_incidents ORDER BY status, aware_at DESC LIMIT 500',
    );
    return rows.map((r) => this.toIncident(r));
  }

  async get(id: number): Promise<IncidentDetail> {
    const [r] = await this.db.query<Row>('SELECT * FROM console_incidents WHERE id = $1', [id]);
    if (!r) throw new ConsoleError('NOT_FOUND', `incident ${id} not found`);
    const alerts = (
      await this.db.query<Parameters<typeof toAlert>[0]>(
        'SELECT * FROM console_alerts WHERE incident_id = $1 ORDER BY first_at',
        [id],
      )
    ).map(toAlert);
    const devices = await this.db.query<{
      deviceId: string;
      site: string | null;
      lat: number | null;
      lon: number | null;
    }>(
      `SELECT device_id AS "deviceId", site, lat, lon FROM devices WHERE device_id = ANY($1::text[]) ORDER BY device_id`,
      [[...new Set(alerts.map((a) => a.deviceId))]],
    );
    return { ...this.toIncident(r), alerts, devices };
  }

  /** Records that a NIS2 report was sent (once: the first time counts), logged. */
  async submitted(id: number, stage: ReportStage, by: string, ip = ''): Promise<Incident> {
    return this.db.transaction(async (tx) => {
      const col = COLUMN[stage];
      const [r] = await tx.query<Row>(
        `UPDATE console_incidents SET ${col} = COALESCE(${col}, to_timestamp($2 / 1000.0)) WHERE id = $1 RETURNING *`,
        [id, this.clock()],
      );
      if (!r) throw new ConsoleError('NOT_FOUND', `incident ${id} not found`);
      await this.audit.record(
        { username: by, action: `incident.${stage}`, target: `incident:${id}`, ip },
        tx,
      );
      return this.toIncident(r);
    });
  }
}
