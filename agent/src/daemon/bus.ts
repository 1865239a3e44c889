import type { EventType, Logger, Severity, StreamItem } from '../core/index.js';

/** A signed document that arrived from the broker, by the topic it came on. */
export interface RemoteDocument {
  raw: Buffer;
  /** `config` (the supervisor), `keys` (the supervisor's trust store) or `vulnerabilities` (software). */
  topic: 'config' | 'keys' | 'vulnerabilities';
}

/** A security event some capability wants reported. */
export interface RaisedEvent {
  type: EventType;
  subject: string;
  details: Record<string, string>;
  severity?: Severity;
}

/** What travels between capabilities, by topic: the only coupling they have. */
export interface BusTopics {
  /** The link to the broker came up (a session exists). */
  up: undefined;
  /** A signed document arrived. */
  document: RemoteDocument;
  /** A certificate chain arrived on `cert/issued`. */
  certIssued: string;
  /** A security event to report. */
  raise: RaisedEvent;
  /** An optional capability failed at run time (`error`), or works again (`null`). */
  capability: { name: string; error: Error | null };
  /** Items were committed to the outbox: there is something to send. */
  committed: { items: number };
}

type Handler<K extends keyof BusTopics> = (value: BusTopics[K]) => void;

/**
 * The typed event bus of the daemon. Handlers run synchronously in the order they
 * subscribed; one that throws is logged and never keeps the others from running,
 * so a fault in one capability stays in it. `submit` is the one request with an
 * answer (its promise carries the outbox's back-pressure), served by the pipeline.
 */
export class Bus {
  private readonly handlers: { [K in keyof BusTopics]?: Handler<K>[] } = {};
  private intake: ((items: StreamItem[]) => Promise<void>) | undefined;

  constructor(private readonly log: Logger) {}

  on<K extends keyof BusTopics>(topic: K, fn: Handler<K>): void {
    const list = (this.handlers[topic] ?? []) as Handler<K>[];
    list.push(fn);
    (this.handlers as Record<K, Handler<K>[]>)[topic] = list;
  }

  emit<K extends keyof BusTopics>(topic: K, value: BusTopics[K]): void {
    for (const fn of (this.handlers[topic] ?? []) as Handler<K>[]) {
      try {
        fn(value);
      } catch (err) {
        this.log.error({ err, topic }, 'a bus handler failed');
      }
    }
  }

  /** Raises a security event (the reporter subscribes to `raise`). */
  readonly raise = (
    type: EventType,
    subject: string,
    details: Record<string, string> = {},
    severity?: Severity,
  ): void => this.emit('raise', { type, subject, details, severity });

  /** Hands items to the pipeline; resolves once they are committed. */
  readonly submit = (items: StreamItem[]): Promise<void> =>
    this.intake ? this.intake(items) : Promise.reject(new Error('the pipeline is not wired'));

  /** The pipeline serves `submit`. */
  serve(intake: (items: StreamItem[]) => Promise<void>): void {
    this.intake = intake;
  }
}
