/**
 * What the console needs of the platform's store: SQL on PostgreSQL or PGlite. The
 * store's `Engine` (platform/src/store) satisfies it; the console never opens its own.
 */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

export interface Db extends Queryable {
  /** Runs `fn` in one transaction: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** LISTEN on a channel until the returned function is called (live pages). */
  listen(channel: string, fn: (payload: string) => void): Promise<() => Promise<void>>;
}

/** Milliseconds since the epoch; injected so tests move time, not wait for it. */
export type Clock = () => number;

/** What an operator may do, each role including the ones before it. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const roleAtLeast = (have: Role, need: Role): boolean => ROLES.indexOf(have) >= ROLES.indexOf(need);
