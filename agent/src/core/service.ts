/** Every long-lived part: constructors only assign, I/O happens in start(). */
export interface Service {
  /** Name used in logs and in start/stop ordering messages. */
  readonly name: string;
  /** Acquires resources; throws a named error when it cannot. */
  start(): Promise<void>;
  /** Releases resources; must be safe to call after a failed start. */
  stop(): Promise<void>;
}
