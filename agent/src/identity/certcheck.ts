import { createPrivateKey, X509Certificate } from 'node:crypto';

/** Why an issued certificate is refused. */
export type CertProblem = 'NOT_PEM' | 'WRONG_CA' | 'WRONG_DEVICE' | 'KEY_MISMATCH' | 'NOT_VALID_NOW';

/**
 * A certificate (chain PEM) is acceptable for this device only if its leaf
 * chains to the pinned CA, matches our key, names this device and is valid now.
 */
export function checkIssued(
  chainPem: string,
  caPem: string,
  keyPem: string,
  deviceId: string,
  nowMs: number,
): { ok: true; leaf: X509Certificate } | { ok: false; problem: CertProblem; detail: string } {
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(chainPem)?.[0];
  let leaf: X509Certificate;
  let ca: X509Certificate;
  try {
    if (!first) throw new Error('no certificate');
    leaf = new X509Certificate(first);
    ca = new X509Certificate(caPem);
  } catch (e) {
    return { ok: false, problem: 'NOT_PEM', detail: `not a PEM certificate: ${(e as Error).message}` };
  }
  if (leaf.issuer !== ca.subject || !leaf.verify(ca.publicKey))
    return { ok: false, problem: 'WRONG_CA', detail: `issued by ${leaf.issuer}, not the pinned CA` };
  if (leaf.subject !== `CN=${deviceId}`)
    return { ok: false, problem: 'WRONG_DEVICE', detail: `names ${leaf.subject}, not CN=${deviceId}` };
  if (!leaf.checkPrivateKey(createPrivateKey(keyPem)))
    return { ok: false, problem: 'KEY_MISMATCH', detail: 'does not match the key of our request' };
  if (Date.parse(leaf.validFrom) > nowMs || Date.parse(leaf.validTo) < nowMs) {
    return { ok: false, problem: 'NOT_VALID_NOW', detail: `valid ${leaf.validFrom} to ${leaf.validTo}` };
  }
  return { ok: true, leaf };
}

/**
 * The client certificate's notBefore as evidence of the time (DESIGN.md Time):
 * only when the pinned CA signed it, since the CA's clock, not the LAN, set it.
 * Undefined when either file is missing or does not verify.
 */
export function signedNotBefore(certPem: string, caPem: string): number | undefined {
  try {
    const leaf = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    if (leaf.issuer !== ca.subject || !leaf.verify(ca.publicKey)) return undefined;
    const t = Date.parse(leaf.validFrom);
    return Number.isFinite(t) ? t : undefined;
  } catch {
    return undefined;
  }
}
