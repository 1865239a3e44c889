/** Every long-lived part: constructors only assign, I/O happens in start(). */
export interface Service {
  /** Name used in logs and in start/stop ordering messages. */
  readonly name: string;
  /** Acquires resources; throws a named error when it cannot. */
  start(): Promise<void>;
  /** Releases resources; must be safe to call after a failed start. */
  stop(): Promise<void>;
}

/**
 * How an optional capability tells the daemon it failed at run time (a cron run,
 * an unreadable device) or works again: `agent.capability_failed`, status, doctor.
 */
export interface CapabilityReport {
  failed(err: Error): void;
  recovered(): void;
}
