import { ConsoleError } from '../errors.js';
import type { Clock, Db, Queryable } from '../types.js';
import type { Alert, AlertFilter, AlertSeverity, AlertState } from './types.js';

interface Row {
  id: number;
  device_id: string;
  type: string;
  subject: string;
  severity: AlertSeverity;
  summary: string;
  evidence: Record<string, unknown>;
  count: number;
  first_at: Date;
  last_at: Date;
  state: AlertState;
  assignee: string | null;
  note: string | null;
  acknowledged_by: string | null;
  acknowledged_at: Date | null;
  resolved_by: string | null;
  resolved_at: Date | null;
  incident_id: number | null;
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export const toAlert = (r: Row): Alert => ({
  id: Number(r.id),
  deviceId: r.device_id,
  type: r.type,
  subject: r.subject,
  severity: r.severity,
  summary: r.summary,
  evidence: r.evidence,
  count: Number(r.count),
  firstAt: iso(r.first_at) as string,
  lastAt: iso(r.last_at) as string,
  state: r.state,
  assignee: r.assignee,
  note: r.note,
  acknowledgedBy: r.acknowledged_by,
  acknowledgedAt: iso(r.acknowledged_at),
  resolvedBy: r.resolved_by,
  resolvedAt: iso(r.resolved_at),
  incidentId: r.incident_id === null ? null : Number(r.incident_id),
});

export interface RaiseInput {
  deviceId: string;
  type: string;
  subject: string;
  severity: AlertSeverity;
  summary: string;
  evidence: Record<string, unknown>;
  atMs: number;
  /** true: every call is an occurrence; false: only changed evidence counts. */
  repeat: boolean;
}

/** The alert queue: raised (deduplicated) by the store and the sweep, handled by operators. */
export class AlertBook {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Raises or counts an alert through the store's own upsert; the id, or null when nothing changed. */
  async raise(a: RaiseInput, tx: Queryable = this.db): Promise<number | null> {
    const [r] = await tx.query<{ id: number | null }>(
      'SELECT console_raise($1, $2, $3, $4, $5, $6, 1, to_timestamp($7 / 1000.0), $8) AS id',
      [a.deviceId, a.type, a.subject, a.severity, a.summary, JSON.stringify(a.evidence), a.atMs, a.repeat],
    );
    return r.id === null ? null : Number(r.id);
  }

  async list(f: AlertFilter = {}): Promise<Alert[]> {
    const rows = await this.db.query<Row>(
      `SELECT * FROM console_alerts WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR device_id = $2)
       ORDER BY CASE state WHEN 'open' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END,
         CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, last_at DESC
       LIMIT $3`,
      [f.state ?? null, f.deviceId ?? null, f.limit ?? 500],
    );
    return rows.map(toAlert);
  }

  async get(id: number, tx: Queryable = this.db): Promise<Alert> {
    const [r] = await tx.query<Row>('SELECT * FROM console_alerts WHERE id = $1', [id]);
    if (!r) throw new ConsoleError('NOT_FOUND', `alert ${id} not found`);
    return toAlert(r);
  }

  /** open -> acknowledged, taking it (or giving it to `assignee`). */
  acknowledge(
    id: number,
    by: string,
    opts: { assignee?: string; note?: string },
    tx?: Queryable,
  ): Promise<Alert> {
    return this.move(id, ['open'], 'acknowledged', by, opts, tx);
  }

  /** open or acknowledged -> resolved; a later occurrence opens a new alert. */
  resolve(id: number, by: string, opts: { note?: string }, tx?: Queryable): Promise<Alert> {
    return this.move(id, ['open', 'acknowledged'], 'resolved', by, opts, tx);
  }

  /** Changes the assignee or the note without changing the state. */
  async annotate(
    id: number,
    opts: { assignee?: string; note?: string },
    tx: Queryable = this.db,
  ): Promise<Alert> {
    const [r] = await tx.query<Row>(
      `UPDATE console_alerts SET assignee = COALESCE($2, assignee), note = COALESCE($3, note) WHERE id = $1 RETURNING *`,
      [id, opts.assignee ?? null, opts.note ?? null],
    );
    if (!r) throw new ConsoleError('NOT_FOUND', `alert ${id} not found`);
    await notify(tx, r);
    return toAlert(r);
  }

  private async move(
    id: number,
    from: AlertState[],
    to: 'acknowledged' | 'resolved',
    by: string,
    opts: { assignee?: string; note?: string },
    tx: Queryable = this.db,
  ): Promise<Alert> {
    const col = to === 'acknowledged' ? 'acknowledged' : 'resolved';
    const [r] = await tx.query<Row>(
      `UPDATE console_alerts SET state = $2, ${col}_by = $3, ${col}_at = to_timestamp($4 / 1000.0),
         assignee = COALESCE($5, assignee, $3), note = COALESCE($6, note)
       WHERE id = $1 AND state = ANY($7) RETURNING *`,
      [id, to, by, this.clock(), opts.assignee ?? null, opts.note ?? null, from],
    );
    if (!r) {
      const now = await this.get(id, tx);
      throw new ConsoleError('BAD_TRANSITION', `alert ${id} is ${now.state}: it cannot become ${to}`);
    }
    await notify(tx, r);
    return toAlert(r);
  }
}

async function notify(tx: Queryable, r: Row): Promise<void> {
  await tx.query("SELECT pg_notify('edge_console', $1)", [
    JSON.stringify({ kind: 'alert', id: Number(r.id), device: r.device_id }),
  ]);
}
