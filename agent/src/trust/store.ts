import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadJsonState, readJsonState, writeJsonState } from '../config/index.js';
import { AgentError } from '../core/index.js';
import { keyIdOf } from '../telemetry/index.js';
import { type DocType, DocumentError, type Role, type SignedDoc } from './document.js';

/** Body of a `keys` document: the role keys (and optionally a new root), each with its own version floor. */
export interface KeysBody {
  /** A new root key (base64 raw Ed25519); only the current root can sign this. */
  root?: string;
  roles: Partial<Record<Exclude<Role, 'root'>, { publicKeys: string[]; minVersion?: number }>>;
}

interface State {
  root: string[];
  roles: Partial<Record<Exclude<Role, 'root'>, string[]>>;
  /** Highest version ever seen per type: applied, rejected after verification, or rolled back. */
  seen: Partial<Record<DocType, number>>;
}

const FILE = 'trust.json';
/** Left beside a quarantined trust.json: while it exists the store refuses everything (see `corrupt`). */
export const TRUST_CORRUPT_MARKER = 'trust.json.corrupt';
const raw32 = (b64: string, path: string): Uint8Array => {
  const k = Buffer.from(b64, 'base64');
  if (k.length !== 32 || k.toString('base64') !== b64)
    throw new DocumentError('MALFORMED', `${path}: must be base64 of a 32-byte Ed25519 key`);
  return k;
};

/** The trust store is quarantined: nothing signed is accepted until a technician acts. */
export class TrustStoreCorruptError extends AgentError {
  constructor(readonly aside: string) {
    super(
      'TRUST_STORE_CORRUPT',
      `trust.json was corrupt and is quarantined at ${aside}: every signed document is refused until it is restored, or re-pinned by removing ${TRUST_CORRUPT_MARKER}`,
    );
  }
}

/**
 * The agent's trust state, persisted in the data dir: the pinned root, the
 * current role keys, and the highest version seen of each document type.
 */
export class TrustStore {
  private state: State = { root: [], roles: {}, seen: {} };
  /** Documents for other devices already reported this run (type:version), so a retained replay is said once. */
  private readonly foreign = new Set<string>();
  /** Where the corrupt trust.json was moved, while the store refuses every document; null when sound. */
  corrupt: string | null = null;

  constructor(
    private readonly dir: string,
    private readonly pinnedRoot: string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Loads the state, or starts it from the root pinned at enrollment when there
   * is none. A corrupt file is quarantined and never replaced by the pinned
   * root: that would forget a rotated root and every version floor (replays).
   * The store then knows no key, so every document is refused, until a
   * technician restores trust.json or re-pins by removing `trust.json.corrupt`.
   * Only the owner (the daemon) quarantines; a reader (a CLI command, `audit
   * --root` on an image) never moves a file and reads what it can.
   */
  load(owner = false): void {
    const marker = join(this.dir, TRUST_CORRUPT_MARKER);
    this.state = { root: [], roles: {}, seen: {} };
    this.corrupt = existsSync(marker) ? readFileSync(marker, 'utf8').trim() || marker : null;
    if (this.corrupt) return;
    if (!owner) {
      const r = readJsonState<State>(join(this.dir, FILE));
      if (r && Array.isArray(r.root) && r.root.length > 0)
        this.state = { root: r.root, roles: r.roles ?? {}, seen: r.seen ?? {} };
      else if (this.pinnedRoot) this.state = { root: [this.pinnedRoot], roles: {}, seen: {} };
      return;
    }
    const s = loadJsonState<State>(join(this.dir, FILE), {
      stamp: this.now(),
      valid: (v) => Array.isArray((v as State | null)?.root) && (v as State).root.length > 0,
      onCorrupt: (aside) => {
        writeFileSync(marker, `${aside}\n`, { mode: 0o644 });
        this.corrupt = aside;
      },
    });
    if (s) this.state = { root: s.root, roles: s.roles ?? {}, seen: s.seen ?? {} };
    else if (!this.corrupt && this.pinnedRoot) this.state = { root: [this.pinnedRoot], roles: {}, seen: {} };
  }

  get hasRoot(): boolean {
    return this.state.root.length > 0;
  }

  keysOf(role: Role): Map<string, Uint8Array> {
    const list = role === 'root' ? this.state.root : (this.state.roles[role] ?? []);
    return new Map(list.map((b64) => [keyIdOf(Buffer.from(b64, 'base64')), Buffer.from(b64, 'base64')]));
  }

  highestSeen(type: DocType): number {
    return this.state.seen[type] ?? 0;
  }

  /** Records a verified version as seen (it can never be applied again). */
  markSeen(type: DocType, version: number): void {
    if (version > this.highestSeen(type)) {
      this.state.seen[type] = version;
      this.save();
    }
  }

  /**
   * Books a refused document: a verified version counts as seen (so a rejected
   * or rolled-back one never comes back), except one targeted at another device,
   * which must never spend this device's versions. Returns false when the
   * refusal is old news (the retained copy of a document already judged).
   */
  noteRefused(e: DocumentError): boolean {
    const type = e.docType ?? 'config';
    if (e.code === 'STALE_VERSION') return e.version !== this.highestSeen(type);
    if (e.code === 'NOT_TARGETED') {
      const k = `${type}:${e.version}`;
      if (this.foreign.has(k)) return false;
      if (this.foreign.size < 1000) this.foreign.add(k);
      return true;
    }
    if (e.version !== undefined) this.markSeen(type, e.version);
    return true;
  }

  /** Applies a verified `keys` document: replaces role keys (revoking the old), may lower a role's floor, may rotate the root. */
  applyKeys(doc: SignedDoc): { rotated: string[] } {
    const body = doc.body as KeysBody;
    if (typeof body !== 'object' || body === null || typeof body.roles !== 'object' || body.roles === null) {
      throw new DocumentError('SCHEMA', 'body.roles: must be an object', doc.version);
    }
    const next: State = {
      root: [...this.state.root],
      roles: { ...this.state.roles },
      seen: { ...this.state.seen },
    };
    const rotated: string[] = [];
    for (const [role, spec] of Object.entries(body.roles) as [
      Exclude<Role, 'root'>,
      KeysBody['roles'][Exclude<Role, 'root'>],
    ][]) {
      if (!['config', 'profiles', 'collector'].includes(role))
        throw new DocumentError('SCHEMA', `body.roles.${role}: not a role`, doc.version);
      if (!spec || !Array.isArray(spec.publicKeys) || spec.publicKeys.length === 0) {
        throw new DocumentError(
          'SCHEMA',
          `body.roles.${role}.publicKeys: must list at least one key`,
          doc.version,
        );
      }
      for (const [i, k] of spec.publicKeys.entries()) raw32(k, `body.roles.${role}.publicKeys[${i}]`);
      next.roles[role] = [...spec.publicKeys];
      rotated.push(role);
      if (spec.minVersion !== undefined) {
        if (!Number.isSafeInteger(spec.minVersion) || spec.minVersion < 1)
          throw new DocumentError(
            'SCHEMA',
            `body.roles.${role}.minVersion: must be a positive integer`,
            doc.version,
          );
        // Recovery from a version signed far ahead by a stolen key: the floor may go down.
        if (role !== 'collector') next.seen[role] = spec.minVersion - 1;
      }
    }
    if (body.root !== undefined) {
      raw32(body.root, 'body.root');
      next.root = [body.root];
      rotated.push('root');
    }
    next.seen.keys = Math.max(next.seen.keys ?? 0, doc.version);
    this.state = next;
    this.save();
    return { rotated };
  }

  private save(): void {
    // A corrupt store is never overwritten: the floors it held must come back from a technician.
    if (this.corrupt) return;
    writeJsonState(join(this.dir, FILE), this.state);
  }
}
