import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { underRoot } from './paths.js';

/** What the baseline records of one path. */
export interface Entry {
  /** Path on the gateway (`/etc/passwd`), never the host path of a mounted image. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Permission bits and file type bits (`st_mode & 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** SHA-256 of a regular file's content. */
  sha256?: string;
  /** Where a symlink points (recorded, never followed). */
  target?: string;
  /** Set when the path exists but could not be read. */
  error?: 'not-readable';
}

export interface ScanProgress {
  files: number;
  bytes: number;
  path: string;
}

/** Streams a file through SHA-256 in 64 KiB chunks: memory stays flat whatever its size. */
export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    const s = createReadStream(path, { highWaterMark: 64 * 1024 });
    s.on('data', (c) => h.update(c));
    s.on('error', reject);
    s.on('end', () => resolve(h.digest('hex')));
  });
}

/**
 * Walks the configured paths under `root`: directories are descended, symlinks
 * recorded and never followed, each regular file hashed by streaming. Missing
 * paths are returned apart; unreadable ones are entries with `error`.
 */
export async function scan(
  root: string,
  paths: string[],
  onProgress?: (p: ScanProgress) => void,
): Promise<{ entries: Entry[]; missing: string[] }> {
  const entries = new Map<string, Entry>();
  const missing: string[] = [];
  const progress: ScanProgress = { files: 0, bytes: 0, path: '' };
  const visit = async (gateway: string, top: boolean): Promise<void> => {
    if (entries.has(gateway)) return;
    const { host } = underRoot(root, gateway);
    let st: Awaited<ReturnType<typeof lstat>>;
    try {
      st = await lstat(host);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        if (top) missing.push(gateway);
        return;
      }
      entries.set(gateway, {
        path: gateway,
        type: 'other',
        mode: 0,
        uid: -1,
        gid: -1,
        size: 0,
        error: 'not-readable',
      });
      return;
    }
    const base = {
      path: gateway,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: st.isFile() ? st.size : 0,
    };
    if (st.isSymbolicLink()) {
      entries.set(gateway, { ...base, type: 'symlink', target: await readlink(host).catch(() => '') });
    } else if (st.isDirectory()) {
      entries.set(gateway, { ...base, type: 'dir' });
      let names: string[];
      try {
        names = (await readdir(host)).sort();
      } catch {
        entries.set(gateway, { ...base, type: 'dir', error: 'not-readable' });
        return;
      }
      for (const n of names) await visit(posix.join(gateway, n), false);
    } else if (st.isFile()) {
      try {
        entries.set(gateway, { ...base, type: 'file', sha256: await hashFile(host) });
      } catch {
        entries.set(gateway, { ...base, type: 'file', error: 'not-readable' });
      }
      progress.files++;
      progress.bytes += st.size;
      progress.path = gateway;
      onProgress?.(progress);
    } else {
      entries.set(gateway, { ...base, type: 'other' });
    }
  };
  for (const p of paths) {
    const { gateway } = underRoot(root, p);
    // A symlinked folder on the way (say /etc/ssh → /tmp) would be followed out of the root by lstat: record it instead.
    const link = await symlinkOnTheWay(root, gateway);
    await visit(link ?? gateway, true);
  }
  return {
    entries: [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    missing,
  };
}

/** The first proper ancestor of `gateway` that is a symlink, if any. */
async function symlinkOnTheWay(root: string, gateway: string): Promise<string | null> {
  const parts = gateway.split('/').filter(Boolean);
  for (let i = 1; i < parts.length; i++) {
    const prefix = `/${parts.slice(0, i).join('/')}`;
    try {
      if ((await lstat(underRoot(root, prefix).host)).isSymbolicLink()) return prefix;
    } catch {
      return null;
    }
  }
  return null;
}
