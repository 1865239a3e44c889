import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readPublicFile, readSecretFile, writeFileAtomic } from '../config/index.js';
import { checkIssued } from './certcheck.js';
import { IdentityExistsError, ProvisionedPairError } from './errors.js';
import { loadSigningKey, type SigningIdentity } from './signing-key.js';

/**
 * A CSR for the TLS key, CN = device id, made with node-forge (it has no EC CSRs: RSA-2048).
 * node-forge is loaded on demand: it adds ~10 MB to a daemon that rarely needs it.
 */
export async function makeCsr(tlsKeyPem: string, deviceId: string): Promise<string> {
  const { default: forge } = await import('node-forge');
  const key = forge.pki.privateKeyFromPem(tlsKeyPem) as import('node-forge').pki.rsa.PrivateKey;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  csr.setSubject([{ name: 'commonName', value: deviceId }]);
  csr.sign(key, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

/** A fresh RSA-2048 TLS key (PKCS#1 PEM, which node-forge and Node's TLS both read). */
export function makeTlsKey(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ format: 'pem', type: 'pkcs1' })
    .toString();
}

export interface IdentityPaths {
  signingKey: string;
  tlsKey: string;
  csr: string;
  /** The certificate and pinned CA: a TLS key already paired with a certificate is kept (provisioned by the city PKI). */
  cert?: string;
  ca?: string;
}

/** What `init` made and what it found in place and kept. */
export interface InitResult {
  identity: SigningIdentity;
  created: string[];
  kept: string[];
}

/**
 * `identity init`: creates the signing key, the TLS key and its CSR, private
 * files 0600. A TLS key with its certificate already in place (provisioned) is
 * checked (chain to the pinned CA, key match, CN, validity) and kept: only the
 * missing signing key is made. Refuses to replace an existing identity unless `force`.
 */
export async function initIdentity(
  paths: IdentityPaths,
  deviceId: string,
  force = false,
  nowMs = Date.now(),
): Promise<InitResult> {
  const provisioned =
    !force && paths.cert && paths.ca && existsSync(paths.tlsKey) && existsSync(paths.cert)
      ? paths.cert
      : undefined;
  const existing = [paths.signingKey, ...(provisioned ? [] : [paths.tlsKey])].filter((f) => existsSync(f));
  if (existing.length > 0 && !force) throw new IdentityExistsError(existing);
  if (provisioned) {
    const r = checkIssued(
      readPublicFile(provisioned),
      readPublicFile(paths.ca as string),
      readSecretFile(paths.tlsKey),
      deviceId,
      nowMs,
    );
    if (!r.ok) throw new ProvisionedPairError(paths.tlsKey, provisioned, `${r.problem}: ${r.detail}`);
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileAtomic(paths.signingKey, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 0o600);
  const created = [paths.signingKey];
  if (!provisioned) {
    const tlsKey = makeTlsKey();
    writeFileAtomic(paths.tlsKey, tlsKey, 0o600);
    writeFileAtomic(paths.csr, await makeCsr(tlsKey, deviceId), 0o644);
    created.push(paths.tlsKey, paths.csr);
  }
  return {
    identity: loadSigningKey(paths.signingKey),
    created,
    kept: provisioned ? [paths.tlsKey, provisioned] : [],
  };
}
