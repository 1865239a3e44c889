import { type KeyObject, sign } from 'node:crypto';
import { AgentError } from '../core/index.js';
import { keyIdOf, verifyEd25519 } from '../telemetry/index.js';

/** The document types; `type` is inside the signed bytes, so one can never pass as another. */
export type DocType = 'keys' | 'config' | 'profiles' | 'vulnerabilities';
/** Who may sign what: the root signs `keys`, each role key its own type. */
export type Role = 'root' | 'config' | 'profiles' | 'collector';
export const SIGNER_OF: Record<DocType, Role> = {
  keys: 'root',
  config: 'config',
  profiles: 'profiles',
  // The vulnerability feed comes from the same catalogue owner as the firmware profiles.
  vulnerabilities: 'profiles',
};

/** The signed content (DESIGN.md, Trust). */
export interface SignedDoc<B = unknown> {
  type: DocType;
  version: number;
  issuedAt: string;
  notAfter?: string;
  target?: { devices?: string[]; groups?: string[] };
  body: B;
}

/** Why a document was refused; `code` is reported in config/status and events. */
export class DocumentError extends AgentError {
  /** The version, when the document got far enough to be read (it then counts as seen). */
  readonly version: number | undefined;
  /** The document's type, once known. */
  docType: DocType | undefined;
  constructor(code: string, message: string, version?: number, docType?: DocType) {
    super(code, message);
    this.version = version;
    this.docType = docType;
  }
}

export interface VerifyOptions {
  maxBytes: number;
  /** The public keys allowed to sign a document of this role, by key id. */
  keysOf: (role: Role) => Map<string, Uint8Array>;
}

/**
 * Size cap, container shape, then the signature over the exact signed bytes,
 * and only then JSON parsing of those bytes; the type must be the one the
 * signing key's role may sign.
 */
export function verifyDocument(
  raw: Uint8Array,
  expected: DocType,
  o: VerifyOptions,
): { doc: SignedDoc; keyId: string; signed: Buffer } {
  if (raw.length > o.maxBytes)
    throw new DocumentError('TOO_LARGE', `document of ${raw.length} bytes exceeds the cap of ${o.maxBytes}`);
  let container: { signed?: unknown; signatures?: unknown };
  try {
    container = JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch {
    throw new DocumentError('MALFORMED', 'not a JSON signed-document container');
  }
  if (
    typeof container !== 'object' ||
    container === null ||
    typeof container.signed !== 'string' ||
    !Array.isArray(container.signatures) ||
    Object.keys(container).some((k) => k !== 'signed' && k !== 'signatures')
  ) {
    throw new DocumentError('MALFORMED', 'signed: must be base64, signatures: must be an array');
  }
  const signed = Buffer.from(container.signed, 'base64');
  if (signed.toString('base64') !== container.signed)
    throw new DocumentError('MALFORMED', 'signed: not canonical base64');
  const role = SIGNER_OF[expected];
  const keys = o.keysOf(role);
  let keyId: string | undefined;
  for (const s of container.signatures.slice(0, 8) as { keyId?: unknown; sig?: unknown }[]) {
    if (typeof s?.keyId !== 'string' || typeof s.sig !== 'string') continue;
    const pub = keys.get(s.keyId);
    const sig = Buffer.from(s.sig, 'base64');
    // Only the canonical encoding counts, so no two containers pass for the same signature.
    if (pub && sig.toString('base64') === s.sig && verifyEd25519(pub, signed, sig)) {
      keyId = s.keyId;
      break;
    }
  }
  if (!keyId) {
    const named = (container.signatures as { keyId?: unknown }[])
      .map((s) => String(s?.keyId).slice(0, 16))
      .join(', ');
    throw new DocumentError(
      'BAD_SIGNATURE',
      `no valid signature by a current ${role} key (signed by: ${named || 'nobody'})`,
    );
  }
  let doc: SignedDoc;
  try {
    doc = JSON.parse(signed.toString('utf8'));
  } catch {
    throw new DocumentError('MALFORMED', 'the signed bytes are not JSON');
  }
  const version = Number.isSafeInteger(doc?.version) && doc.version >= 1 ? doc.version : undefined;
  if (doc?.type !== expected)
    throw new DocumentError(
      'WRONG_TYPE',
      `a ${String(doc?.type)} document where ${expected} was expected`,
      version,
    );
  if (version === undefined)
    throw new DocumentError('MALFORMED', 'version: must be an integer from 1 to 2^53-1');
  if (typeof doc.issuedAt !== 'string' || Number.isNaN(Date.parse(doc.issuedAt)))
    throw new DocumentError('MALFORMED', 'issuedAt: must be an RFC 3339 time', version);
  if (
    doc.notAfter !== undefined &&
    (typeof doc.notAfter !== 'string' || Number.isNaN(Date.parse(doc.notAfter)))
  ) {
    throw new DocumentError('MALFORMED', 'notAfter: must be an RFC 3339 time', version);
  }
  return { doc, keyId, signed };
}

/** Is this device among the document's targets? Absent target means every device. */
export function targets(doc: SignedDoc, deviceId: string, groups: string[]): boolean {
  const t = doc.target;
  if (!t || (t.devices === undefined && t.groups === undefined)) return true;
  return (
    (Array.isArray(t.devices) && t.devices.includes(deviceId)) ||
    (Array.isArray(t.groups) && t.groups.some((g) => groups.includes(g)))
  );
}

/** The container for a document, signed by one or more keys (the operator tool and tests use it). */
export function signDocument(
  doc: SignedDoc,
  signers: { privateKey: KeyObject; publicKey: Uint8Array }[],
): string {
  const signed = Buffer.from(JSON.stringify(doc));
  return JSON.stringify({
    signed: signed.toString('base64'),
    signatures: signers.map((s) => ({
      keyId: keyIdOf(s.publicKey),
      sig: sign(null, signed, s.privateKey).toString('base64'),
    })),
  });
}
