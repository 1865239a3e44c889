import { type AgentConfig, remoteIssues } from '../config/index.js';
import { type DocType, DocumentError, type SignedDoc, targets, verifyDocument } from './document.js';
import type { TrustStore } from './store.js';

/** Who and when a document is judged for: its target and its expiry. */
export interface Audience {
  deviceId: string;
  groups: string[];
  nowMs: number;
  /** The date can be trusted (DESIGN.md Time); expiry decisions wait otherwise. */
  clockTrusted: boolean;
}

export interface OtaContext extends Audience {
  store: TrustStore;
  maxBytes: number;
  /** The document came on the `keys` topic: only a root-signed `keys` document is taken there. */
  only?: 'keys';
}

/** A document that passed every check, ready to apply. */
export type Accepted =
  | { type: 'keys'; doc: SignedDoc }
  | { type: 'config'; doc: SignedDoc; settings: Partial<AgentConfig> };

/**
 * Checks a document from the `config` topic in the order the issue fixes: size,
 * signature over the raw bytes, type and signing role, target, expiry (deferred
 * while the clock is implausible), version above the highest ever seen, schema.
 * A `keys` document (signed by the root) may arrive on the same topic.
 * Throws DocumentError; its `version` is set once the document was verified, so
 * the caller marks it seen and it never comes back.
 */
export function checkDocument(raw: Uint8Array, ctx: OtaContext): Accepted {
  refuseIfCorrupt(ctx.store);
  if (!ctx.store.hasRoot)
    throw new DocumentError(
      'NO_ROOT',
      'no root key pinned (trust.rootKey): signed documents cannot be checked',
    );
  const opts = {
    maxBytes: ctx.maxBytes,
    keysOf: (r: Parameters<TrustStore['keysOf']>[0]) => ctx.store.keysOf(r),
  };
  let verified: ReturnType<typeof verifyDocument>;
  let type: DocType = 'config';
  if (ctx.only === 'keys') {
    type = 'keys';
    try {
      verified = verifyDocument(raw, 'keys', opts);
    } catch (e) {
      if (e instanceof DocumentError) e.docType = 'keys';
      throw e;
    }
  } else {
    try {
      verified = verifyDocument(raw, 'config', opts);
    } catch (e) {
      if (!(e instanceof DocumentError) || e.code !== 'BAD_SIGNATURE') throw e;
      try {
        verified = verifyDocument(raw, 'keys', opts);
        type = 'keys';
      } catch (e2) {
        throw e2 instanceof DocumentError && e2.code !== 'BAD_SIGNATURE' ? e2 : e;
      }
    }
  }
  try {
    return afterSignature(verified.doc, type, ctx);
  } catch (e) {
    if (e instanceof DocumentError) e.docType = type;
    throw e;
  }
}

/** Target, then expiry (deferred while the clock is implausible): the same for every signed document. */
function checkAudience(doc: SignedDoc, a: Audience, type?: DocType): void {
  if (!targets(doc, a.deviceId, a.groups))
    throw new DocumentError(
      'NOT_TARGETED',
      `targets other devices (${JSON.stringify(doc.target).slice(0, 120)})`,
      doc.version,
      type,
    );
  if (doc.notAfter !== undefined) {
    if (!a.clockTrusted)
      throw new DocumentError(
        'DEFERRED',
        'the clock cannot be trusted: the expiry check waits',
        undefined,
        type,
      );
    if (Date.parse(doc.notAfter) < a.nowMs)
      throw new DocumentError('EXPIRED', `expired at ${doc.notAfter}`, doc.version, type);
  }
}

function afterSignature(doc: SignedDoc, type: DocType, ctx: OtaContext): Accepted {
  checkAudience(doc, ctx);
  const seen = ctx.store.highestSeen(type);
  if (doc.version <= seen)
    throw new DocumentError(
      'STALE_VERSION',
      `version ${doc.version} is not above ${seen}, the highest seen`,
      doc.version,
    );
  if (type === 'keys') return { type, doc };
  const issues = remoteIssues(doc.body);
  if (issues.length)
    throw new DocumentError('SCHEMA', issues.map((i) => `${i.path}: ${i.message}`).join('; '), doc.version);
  return { type: 'config', doc, settings: doc.body as Partial<AgentConfig> };
}

/**
 * A document signed by the `profiles` role (a firmware-profiles bundle or a
 * vulnerability feed): signature by a current `profiles` key over the raw
 * bytes, the expected type, its target and expiry when `audience` is given (a
 * bundle for other gateways or past its `notAfter` is never applied), a
 * version not below the highest seen of that type (each type has its own
 * floor; the same version is the same document read again). The body is the
 * caller's to validate.
 */
export function checkCatalogueDocument(
  raw: Uint8Array,
  type: 'profiles' | 'vulnerabilities',
  store: TrustStore,
  maxBytes: number,
  audience?: Audience,
): SignedDoc {
  refuseIfCorrupt(store);
  if (!store.hasRoot && store.keysOf('profiles').size === 0)
    throw new DocumentError('NO_ROOT', 'no trusted profiles key');
  const { doc } = verifyDocument(raw, type, { maxBytes, keysOf: (r) => store.keysOf(r) });
  if (audience) checkAudience(doc, audience, type);
  const seen = store.highestSeen(type);
  if (doc.version < seen)
    throw new DocumentError(
      'STALE_VERSION',
      `${type === 'profiles' ? 'bundle' : 'feed'} version ${doc.version} is older than ${seen}, the newest seen`,
      doc.version,
      type,
    );
  return doc;
}

/**
 * A `keys` document handed over outside MQTT (`enroll --keys FILE`, a demo's setup):
 * checked exactly as one from the `keys` topic, then applied. The same version
 * again is no change (the retained copy of what is already in force).
 */
export function applyKeysDocument(
  raw: Uint8Array,
  ctx: Omit<OtaContext, 'only'>,
): { version: number; rotated: string[] } {
  try {
    const a = checkDocument(raw, { ...ctx, only: 'keys' });
    return { version: a.doc.version, ...ctx.store.applyKeys(a.doc) };
  } catch (e) {
    if (
      e instanceof DocumentError &&
      e.code === 'STALE_VERSION' &&
      e.version === ctx.store.highestSeen('keys')
    )
      return { version: e.version, rotated: [] };
    throw e;
  }
}

/** A firmware-profiles bundle (see checkCatalogueDocument). */
export function checkProfilesDocument(
  raw: Uint8Array,
  store: TrustStore,
  maxBytes: number,
  audience: Audience,
): SignedDoc {
  return checkCatalogueDocument(raw, 'profiles', store, maxBytes, audience);
}

function refuseIfCorrupt(store: TrustStore): void {
  if (store.corrupt)
    throw new DocumentError(
      'STORE_CORRUPT',
      `the trust store is corrupt (quarantined at ${store.corrupt}): every document is refused until it is restored or re-pinned`,
    );
}
