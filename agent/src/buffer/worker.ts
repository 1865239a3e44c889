import { parentPort } from 'node:worker_threads';
import { isCorruption } from './db.js';
import { OutboxStore } from './store.js';
import {
  type FromWorker,
  type OpContext,
  type OpResult,
  type StoreOp,
  type ToWorker,
  toWire,
  type WireError,
} from './wire.js';

/**
 * The outbox worker: owns the SQLite connection that writes; its fsyncs happen
 * on this thread, the high-water mark's on the thread pool beside them.
 * Operations that arrive while a group is being synced queue up and go
 * together in the next transaction (group commit). Everything that touches the
 * store runs in turn (`inTurn`): a group waiting for its mark's sync is never
 * overtaken by the next group, a check or a close.
 */
const port = parentPort;
if (!port) throw new Error('the outbox worker runs in a worker thread');
const post = (m: FromWorker): void => port.postMessage(m);
let store: OutboxStore | undefined;
let queue: { id: number; op: StoreOp; ctx: OpContext }[] = [];
let scheduled = false;
/** Appends sealed under a generation below this chain on a commit that failed: refused. */
let minGen = 0;
let maxGen = 0;
let lastFailure: WireError = { code: 'BUFFER_REWOUND', message: 'an earlier commit failed' };
let turn: Promise<void> = Promise.resolve();

/**
 * Runs `f` after whatever runs now has finished. A throw ends the worker as an
 * uncaught one did when every handler ran at once (the main thread refuses what
 * waited and restarts it).
 */
function inTurn(f: () => void | Promise<void>): void {
  turn = turn.then(f).catch((e: unknown) => {
    setImmediate(() => {
      throw e;
    });
  });
}

port.on('message', (m: ToWorker) => {
  if (m.t === 'op') {
    if (m.op.k === 'append') maxGen = Math.max(maxGen, m.op.gen);
    queue.push(m);
    if (!scheduled) {
      scheduled = true;
      // After the messages already waiting, and after the group in flight: everything that queued
      // during the last group's syncs commits together.
      setImmediate(() => inTurn(flush));
    }
  } else inTurn(() => handle(m));
});

function handle(m: Exclude<ToWorker, { t: 'op' }>): void {
  if (m.t === 'open') {
    minGen = m.gen;
    maxGen = m.gen;
    store = new OutboxStore({
      file: m.file,
      maxBytes: m.maxBytes,
      minFreeBytes: m.minFreeBytes,
      epochs: m.epochs,
      log: (level, obj, msg) => post({ t: 'log', level, obj, msg }),
    });
    try {
      post({ t: 'opened', state: store.open(m.ctx) });
    } catch (e) {
      post({ t: 'failed', err: toWire(e) });
    }
  } else if (m.t === 'check') {
    const s = store;
    if (!s) return;
    const found = s.quickCheck();
    if (found !== 'ok')
      quarantined(s, { code: 'SQLITE_CORRUPT', message: `quick_check: ${found}` }, m.ctx, []);
  } else if (m.t === 'close') {
    store?.close(m.up);
    store = undefined;
    post({ t: 'closed' });
  }
}

async function flush(): Promise<void> {
  scheduled = false;
  const group = queue;
  queue = [];
  const s = store;
  if (!s) return;
  const results: OpResult[] = [];
  const runnable = group.filter((g) => {
    if (g.op.k !== 'append' || g.op.gen >= minGen) return true;
    results.push({ id: g.id, err: lastFailure });
    return false;
  });
  if (runnable.length > 0) {
    // The latest clock, and the least free space any of them saw.
    const ctx = { ...runnable[runnable.length - 1].ctx, free: Math.min(...runnable.map((g) => g.ctx.free)) };
    try {
      const n = await s.commit(
        runnable.map((g) => g.op),
        ctx,
      );
      for (const [i, g] of runnable.entries()) results.push({ id: g.id, n: n[i] });
    } catch (e) {
      const err = toWire(e);
      for (const g of runnable) results.push({ id: g.id, err });
      if (runnable.some((g) => g.op.k === 'append')) {
        minGen = maxGen + 1;
        lastFailure = err;
      }
      if (isCorruption(e)) {
        quarantined(s, err, ctx, results);
        return;
      }
    }
  }
  post({ t: 'done', results, state: s.state(), gen: minGen });
}

/** A corrupt file at run time: quarantined as at start, a new epoch, every older append refused. */
function quarantined(s: OutboxStore, err: WireError, ctx: OpContext, results: OpResult[]): void {
  const e = Object.assign(new Error(err.message), { code: err.code });
  const state = s.replace(e, ctx);
  minGen = maxGen + 1;
  lastFailure = { code: 'BUFFER_QUARANTINED', message: `the outbox was quarantined: ${err.message}` };
  for (const r of results) if ('err' in r) r.err = lastFailure;
  post({ t: 'done', results, state, gen: minGen, quarantined: err });
}
