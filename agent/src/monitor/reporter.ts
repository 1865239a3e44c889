import {
  type Clock,
  type EventType,
  type Logger,
  type SecurityEvent,
  type Service,
  type Severity,
  Stream,
  type StreamItem,
  securityEvent,
  type TimerHandle,
} from '../core/index.js';

export interface ReporterOptions {
  /** Where events go (the batcher's events stream). */
  submit: (items: StreamItem[]) => Promise<void>;
  /** Repeats of one (type, subject) within this window are folded into one event. 0 = never. */
  aggregateMs: number;
  clock: Clock;
  log: Logger;
  /** Events refused for a full disk are offered again this often. Default 5 s. */
  retryMs?: number;
}

/** Events held while the disk is full; past this the oldest go (and the loss is logged). */
export const MAX_HELD_EVENTS = 256;

interface Storm {
  first: SecurityEvent;
  last: SecurityEvent;
  /** Occurrences in the window (an already aggregated event counts as its `count`). */
  count: number;
  timer: TimerHandle;
}

/**
 * Every module raises its security events here. The first occurrence of a
 * (type, subject) goes out at once; repeats within the window are counted and
 * sent as one event with `count`, `first_ts_ms` and `last_ts_ms` when it closes,
 * so a storm never floods the buffer.
 */
export class EventReporter implements Service {
  readonly name = 'events';
  private readonly storms = new Map<string, Storm>();
  /** Events raised, for status. */
  raised = 0;
  /** Refused for a full disk, offered again on `retry`. */
  private held: SecurityEvent[] = [];
  private retry: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly opts: ReporterOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
  }

  /** Sends what the open windows hold, and offers what a full disk held back once more. */
  async stop(): Promise<void> {
    for (const key of [...this.storms.keys()]) this.close(key);
    this.stopped = true;
    if (this.retry) this.opts.clock.clearTimeout(this.retry);
    this.retry = undefined;
    if (this.held.length > 0) this.submit(this.held.splice(0));
  }

  raise(type: EventType, subject: string, details: Record<string, string> = {}, severity?: Severity): void {
    this.raiseEvent(
      securityEvent(type, clean(subject), cleanDetails(details), this.opts.clock.now(), severity),
    );
  }

  raiseEvent(e: SecurityEvent): void {
    this.raised++;
    if (this.opts.aggregateMs <= 0) {
      this.send(e);
      return;
    }
    const key = `${e.type}\u0000${e.subject}`;
    const storm = this.storms.get(key);
    if (storm) {
      storm.count += e.count ?? 1;
      storm.last = e;
      return;
    }
    this.send(e);
    this.storms.set(key, {
      first: e,
      last: e,
      count: e.count ?? 1,
      timer: this.opts.clock.setTimeout(() => this.close(key), this.opts.aggregateMs),
    });
  }

  private close(key: string): void {
    const s = this.storms.get(key);
    if (!s) return;
    this.storms.delete(key);
    this.opts.clock.clearTimeout(s.timer);
    if (s.last === s.first) return;
    this.send({
      ...s.last,
      count: s.count,
      firstTsMs: s.first.firstTsMs ?? s.first.tsMs,
      lastTsMs: s.last.lastTsMs ?? s.last.tsMs,
    });
  }

  private send(e: SecurityEvent): void {
    this.submit([e]);
  }

  /**
   * A full disk refuses events as it refuses readings, but the event saying so
   * (a capability that failed on it) is the one the platform most needs: events
   * refused for a full disk are held and offered again until space comes back.
   */
  private submit(events: SecurityEvent[]): void {
    this.opts.submit(events.map((event) => ({ stream: Stream.EVENTS, event }))).catch((err) => {
      if ((err as { code?: string }).code !== 'BUFFER_DISK_FULL' || this.stopped) {
        this.opts.log.error({ err, types: events.map((e) => e.type) }, 'security events not accepted');
        return;
      }
      this.held.push(...events);
      const over = this.held.length - MAX_HELD_EVENTS;
      if (over > 0) {
        const gone = this.held.splice(0, over);
        this.opts.log.error(
          { dropped: gone.length },
          'the disk stays full: the oldest held events are dropped',
        );
      }
      this.retry ??= this.opts.clock.setTimeout(() => {
        this.retry = undefined;
        this.submit(this.held.splice(0));
      }, this.opts.retryMs ?? 5_000);
    });
  }
}

/** Event text comes from hostile places (logs, descriptors): no control characters, bounded length. */
export function clean(s: string, max = 256): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const t = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

function cleanDetails(d: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d).slice(0, 32)) out[clean(k, 64)] = clean(String(v), 1024);
  return out;
}
