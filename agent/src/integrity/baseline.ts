import { createHash, type KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../config/index.js';
import { AgentError } from '../core/index.js';
import { keyIdOf, verifyEd25519 } from '../telemetry/index.js';
import type { Entry } from './scan.js';

/** The signed content of a baseline. */
export interface Baseline {
  type: 'integrity-baseline';
  version: 1;
  deviceId: string;
  createdAt: string;
  root: string;
  paths: string[];
  missing: string[];
  entries: Entry[];
}

/** A baseline that is missing, unreadable, or whose signature does not hold. */
export class BaselineError extends AgentError {}

/**
 * Writes the baseline in the signed-document container of DESIGN.md
 * (`{signed, signatures: [{keyId, sig}]}`), signed with the device key, and
 * returns its digest (SHA-256 of the signed bytes), which every report carries.
 */
export function writeBaseline(file: string, b: Baseline, key: KeyObject, publicKey: Uint8Array): string {
  const bytes = Buffer.from(JSON.stringify(b));
  const sig = sign(null, bytes, key);
  const doc = {
    signed: bytes.toString('base64'),
    signatures: [{ keyId: keyIdOf(publicKey), sig: sig.toString('base64') }],
  };
  writeFileAtomic(file, `${JSON.stringify(doc)}\n`, 0o600);
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads a baseline, checking the device's signature over the exact bytes before parsing them. */
export function readBaseline(file: string, publicKey: Uint8Array): { baseline: Baseline; digest: string } {
  let doc: { signed?: unknown; signatures?: { keyId?: unknown; sig?: unknown }[] };
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new BaselineError(
      missing ? 'BASELINE_MISSING' : 'BASELINE_INVALID',
      missing
        ? `${file}: no baseline yet (run \`edge-agent integrity baseline\`)`
        : `${file}: not a baseline document`,
    );
  }
  if (typeof doc.signed !== 'string' || !Array.isArray(doc.signatures))
    throw new BaselineError('BASELINE_INVALID', `${file}: not a signed document`);
  const bytes = Buffer.from(doc.signed, 'base64');
  // Only the canonical base64 counts (as for every signed document): Node's decoder skips stray
  // characters and padding bits, so otherwise an altered file could still pass as the signed one.
  const canonical = (text: string, b: Buffer) => b.toString('base64') === text;
  const keyId = keyIdOf(publicKey);
  const ok =
    canonical(doc.signed, bytes) &&
    doc.signatures.some((s) => {
      if (s.keyId !== keyId || typeof s.sig !== 'string') return false;
      const sig = Buffer.from(s.sig, 'base64');
      return canonical(s.sig, sig) && verifyEd25519(publicKey, bytes, sig);
    });
  if (!ok)
    throw new BaselineError(
      'BASELINE_SIGNATURE',
      `${file}: the device's signature does not verify: the baseline was altered or made by another key`,
    );
  const baseline = JSON.parse(bytes.toString('utf8')) as Baseline;
  if (baseline.type !== 'integrity-baseline' || !Array.isArray(baseline.entries))
    throw new BaselineError('BASELINE_INVALID', `${file}: signed, but not a baseline`);
  return { baseline, digest: createHash('sha256').update(bytes).digest('hex') };
}
