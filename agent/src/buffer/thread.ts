import { Worker } from 'node:worker_threads';
import { BufferError, BufferFullError } from './errors.js';
import type { FromWorker, OpContext, OpResult, StoreOp, StoreState, ToWorker, WireError } from './wire.js';

type Done = Extract<FromWorker, { t: 'done' }>;

interface Waiter {
  resolve: (n: number) => void;
  reject: (e: Error) => void;
  batches: number;
  bytes: number;
}

export interface ThreadEvents {
  /** A group finished: the state mirror is absorbed before any waiter hears of its result. */
  done(m: Done): void;
  log(level: 'info' | 'warn' | 'error', obj: Record<string, unknown>, msg: string): void;
  /** The worker stopped unasked: every waiter was refused with `err`. */
  died(err: Error): void;
}

/** A failure from the worker with its class back (classes do not cross the thread boundary). */
export function fromWire(e: WireError): Error {
  return e.code === 'BUFFER_DISK_FULL' ? new BufferFullError(e.message) : new BufferError(e.code, e.message);
}

/** One outbox worker: requests out, results back by id, and what waits for it counted. */
export class StoreThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();
  private opening: { resolve: (s: StoreState) => void; reject: (e: Error) => void } | undefined;
  private closing: (() => void) | undefined;
  private idlers: (() => void)[] = [];
  /** Batches and envelope bytes sent and not yet answered. */
  pendingBatches = 0;
  pendingBytes = 0;

  constructor(private readonly on: ThreadEvents) {}

  open(msg: Extract<ToWorker, { t: 'open' }>): Promise<StoreState> {
    const w = new Worker(new URL('./worker.js', import.meta.url));
    this.worker = w;
    let why: Error | undefined;
    w.on('message', (m: FromWorker) => this.receive(m));
    w.on('error', (e) => {
      why = e;
    });
    w.on('exit', (code) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      const err = new BufferError(
        'BUFFER_WORKER_DIED',
        // Unconfirmed is not lost: the worker may have committed a group it could not report, and
        // the chain then continues after it, so a producer that retries may store a reading twice.
        `the outbox worker stopped (exit ${code}${why ? `: ${why.message}` : ''}): what was waiting is unconfirmed (it may have been stored)`,
      );
      this.closing?.();
      this.closing = undefined;
      this.opening?.reject(err);
      this.opening = undefined;
      this.refuseAll(err);
      this.on.died(err);
    });
    return new Promise((resolve, reject) => {
      this.opening = { resolve, reject };
      w.postMessage(msg);
    });
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  request(op: StoreOp, ctx: OpContext, batches = 0, bytes = 0): Promise<number> {
    const w = this.worker;
    if (!w) return Promise.reject(new BufferError('BUFFER_UNAVAILABLE', 'the outbox worker is not running'));
    const id = this.nextId++;
    this.pendingBatches += batches;
    this.pendingBytes += bytes;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, batches, bytes });
      w.postMessage({ t: 'op', id, op, ctx } satisfies ToWorker);
    });
  }

  /** Asks the worker to check the file (a read found it corrupt). */
  check(ctx: OpContext): void {
    this.worker?.postMessage({ t: 'check', ctx } satisfies ToWorker);
  }

  get idle(): boolean {
    return this.waiting.size === 0;
  }

  /** Resolves once nothing waits for the worker. */
  whenIdle(): Promise<void> {
    if (this.waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idlers.push(resolve));
  }

  private wake(): void {
    if (this.waiting.size > 0) return;
    const idlers = this.idlers;
    this.idlers = [];
    for (const f of idlers) f();
  }

  /** Closes the file (checkpointed) and ends the worker. */
  async close(up: number): Promise<void> {
    const w = this.worker;
    if (!w) return;
    await new Promise<void>((resolve) => {
      this.closing = resolve;
      w.postMessage({ t: 'close', up } satisfies ToWorker);
    });
    this.worker = undefined;
    await w.terminate();
  }

  /** Ends the worker at once (tests: a worker that dies). */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  private receive(m: FromWorker): void {
    if (m.t === 'opened') {
      this.opening?.resolve(m.state);
      this.opening = undefined;
    } else if (m.t === 'failed') {
      const w = this.worker;
      this.worker = undefined;
      this.opening?.reject(fromWire(m.err));
      this.opening = undefined;
      void w?.terminate();
    } else if (m.t === 'log') this.on.log(m.level, m.obj, m.msg);
    else if (m.t === 'closed') {
      this.closing?.();
      this.closing = undefined;
    } else {
      this.on.done(m);
      for (const r of m.results) this.answer(r);
    }
  }

  private answer(r: OpResult): void {
    const w = this.waiting.get(r.id);
    if (!w) return;
    this.waiting.delete(r.id);
    this.pendingBatches -= w.batches;
    this.pendingBytes -= w.bytes;
    if ('err' in r) w.reject(fromWire(r.err));
    else w.resolve(r.n);
    this.wake();
  }

  private refuseAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    this.pendingBatches = 0;
    this.pendingBytes = 0;
    this.wake();
  }
}
