import { spawnSync } from 'node:child_process';
import {
  closeSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

/** The shim's source: kept in the repository, compiled by the row (gcc is a Debian package `.ci/run` installs). */
const SHIM_SOURCE = join(repoRoot, 'test', 'torture', 'powercut', 'shim.c');
const HEADER = 48;

/** Compiles the power-cut shim into `dir`; throws with gcc's words when it cannot. */
export function compileShim(dir: string): string {
  const out = join(dir, 'powercut.so');
  const r = spawnSync('gcc', ['-shared', '-fPIC', '-O2', '-Wall', '-o', out, SHIM_SOURCE, '-ldl'], {
    encoding: 'utf8',
  });
  if (r.error || r.status !== 0)
    throw new Error(`cannot compile the power-cut shim (gcc): ${r.error?.message ?? r.stderr}`);
  return out;
}

/** The environment that puts a process under the shim: writes under `dataDir` are undone at the cut unless synced. */
export function shimEnv(so: string, dataDir: string, log: string): NodeJS.ProcessEnv {
  return { LD_PRELOAD: so, POWERCUT_DIR: dataDir, POWERCUT_LOG: log };
}

interface Undo {
  off: number;
  oldSize: number;
  old: Buffer;
}

/**
 * The power cut, after the process was SIGKILLed: every write not followed by
 * an fsync of its file is undone, newest first, so each file holds what it
 * held at its last sync. Files are found by inode (they may have been renamed
 * since). Returns how many writes were thrown away, and in how many files.
 */
export function powerCut(
  dataDir: string,
  log: string,
): { seen: number; syncs: number; writes: number; files: number } {
  let buf: Buffer;
  try {
    buf = readFileSync(log);
  } catch {
    return { seen: 0, syncs: 0, writes: 0, files: 0 };
  }
  const pending = new Map<string, Undo[]>();
  let at = 0;
  let seen = 0;
  let syncs = 0;
  while (at + HEADER <= buf.length) {
    const kind = String.fromCharCode(buf[at]);
    const dev = buf.readBigUInt64LE(at + 8);
    const ino = buf.readBigUInt64LE(at + 16);
    const off = Number(buf.readBigUInt64LE(at + 24));
    const oldSize = Number(buf.readBigUInt64LE(at + 32));
    const len = Number(buf.readBigUInt64LE(at + 40));
    // A record cut short by the kill belongs to a write that never happened.
    if (at + HEADER + len > buf.length) break;
    const key = `${dev}:${ino}`;
    if (kind === 'S') {
      pending.delete(key);
      syncs++;
    } else if (kind === 'W') {
      seen++;
      const list = pending.get(key) ?? [];
      list.push({ off, oldSize, old: buf.subarray(at + HEADER, at + HEADER + len) });
      pending.set(key, list);
    } else throw new Error(`power-cut log corrupt at byte ${at}`);
    at += HEADER + len;
  }
  const paths = filesByInode(dataDir);
  let writes = 0;
  let files = 0;
  for (const [key, undo] of pending) {
    const path = paths.get(key);
    if (!path) continue; // unlinked since: nothing on disk to undo
    const fd = openSync(path, 'r+');
    try {
      for (const u of undo.reverse()) {
        if (u.old.length > 0) writeSync(fd, u.old, 0, u.old.length, u.off);
        ftruncateSync(fd, u.oldSize);
        writes++;
      }
    } finally {
      closeSync(fd);
    }
    files++;
  }
  rmSync(log, { force: true });
  return { seen, syncs, writes, files };
}

function filesByInode(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const p = join(dir, name);
    try {
      const st = statSync(p, { bigint: true });
      if (st.isFile()) out.set(`${st.dev}:${st.ino}`, p);
    } catch {
      // gone between the listing and the stat
    }
  }
  return out;
}
