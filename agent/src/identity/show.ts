import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { loadSigningKey } from './signing-key.js';

/** What `identity show` prints: everything the platform's registry needs. */
export interface IdentityInfo {
  deviceId: string;
  /** Base64 of the raw 32-byte Ed25519 public key. */
  signingPublicKey: string;
  keyId: string;
  csrPath: string;
  csrPem: string | null;
  certificate: {
    path: string;
    subject: string;
    issuer: string;
    fingerprint256: string;
    validFrom: string;
    validTo: string;
  } | null;
}

export function describeIdentity(
  deviceId: string,
  paths: { signingKey: string; csr: string; cert: string },
): IdentityInfo {
  const id = loadSigningKey(paths.signingKey);
  let certificate: IdentityInfo['certificate'] = null;
  if (existsSync(paths.cert)) {
    const c = new X509Certificate(readFileSync(paths.cert));
    certificate = {
      path: paths.cert,
      subject: c.subject,
      issuer: c.issuer,
      fingerprint256: c.fingerprint256,
      validFrom: new Date(c.validFrom).toISOString(),
      validTo: new Date(c.validTo).toISOString(),
    };
  }
  return {
    deviceId,
    signingPublicKey: Buffer.from(id.publicKey).toString('base64'),
    keyId: id.keyId,
    csrPath: paths.csr,
    csrPem: existsSync(paths.csr) ? readFileSync(paths.csr, 'utf8') : null,
    certificate,
  };
}
