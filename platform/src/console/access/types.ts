import type { Role } from '../types.js';

export interface User {
  username: string;
  role: Role;
  createdAt: string;
  disabled: boolean;
}

/** A live session, as a request sees it. */
export interface Session {
  username: string;
  role: Role;
  /** What @fastify/csrf-protection makes and checks this session's CSRF tokens with. */
  csrfSecret: string;
  expiresAtMs: number;
}

export interface AuditEntry {
  id: number;
  at: string;
  username: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
  ip: string;
}
