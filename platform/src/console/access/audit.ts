import type { Clock, Db, Queryable } from '../types.js';
import type { AuditEntry } from './types.js';

export interface AuditInput {
  username: string;
  action: string;
  target?: string;
  detail?: Record<string, unknown>;
  ip?: string;
}

/** The operator action log: rows are only ever added (a trigger refuses UPDATE and DELETE). */
export class AuditLog {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Records an action; pass `tx` to record it in the same transaction as the change it describes. */
  async record(e: AuditInput, tx: Queryable = this.db): Promise<void> {
    await tx.query(
      `INSERT INTO console_audit (at, username, action, target, detail, ip)
       VALUES (to_timestamp($1 / 1000.0), $2, $3, $4, $5, $6)`,
      [this.clock(), e.username, e.action, e.target ?? '', JSON.stringify(e.detail ?? {}), e.ip ?? ''],
    );
  }

  /** Newest first; `before` pages back by id. */
  async list(limit: number, before?: number): Promise<AuditEntry[]> {
    const rows = await this.db.query<{
      id: number;
      at: Date | string;
      username: string;
      action: string;
      target: string;
      detail: Record<string, unknown>;
      ip: string;
    }>(
      `SELECT id, at, username, action, target, detail, ip FROM console_audit
       WHERE ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $1`,
      [limit, before ?? null],
    );
    return rows.map((r) => ({ ...r, id: Number(r.id), at: new Date(r.at).toISOString() }));
  }
}
