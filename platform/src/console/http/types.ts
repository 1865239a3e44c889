import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Session } from '../access/index.js';
import type { Role } from '../types.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface ApiRequest {
  method: Method;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined when there was none). */
  body: unknown;
  ip: string;
  /** Set on every route that needs a role; null only on public routes. */
  session: Session | null;
  /** The raw session token (for logout). */
  token: string | null;
}

export type Reply =
  | { status?: number; json: unknown; cookies?: string[] }
  | { status?: number; text: string | Buffer; type: string; cookies?: string[] }
  /** A long-lived response (server-sent events): the handler owns `res` until it ends. */
  | { stream: (res: ServerResponse) => void };

export interface Route {
  method: Method;
  /** `/api/v1/alerts/:id`: segments starting with `:` are parameters. */
  path: string;
  /** The least role that may call it; null: anyone (the login page and call only). */
  role: Role | null;
  handler: (req: ApiRequest) => Promise<Reply>;
}
