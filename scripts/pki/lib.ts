import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** A certificate and its private key, both PEM. */
export interface Issued {
  certPem: string;
  keyPem: string;
}

export interface Validity {
  /** Start of validity; default: one hour ago (tolerates small clock skew). */
  notBefore?: Date;
  /** Lifetime in days from notBefore; default 397 for leaves, 3650 for the CA. */
  days?: number;
}

const rsaKey = (): string =>
  generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ format: 'pem', type: 'pkcs1' })
    .toString();

function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive
  return b.toString('hex');
}

function base(
  publicKey: forge.pki.PublicKey,
  cn: string,
  v: Validity,
  defaultDays: number,
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial();
  const from = v.notBefore ?? new Date(Date.now() - 3600_000);
  cert.validity.notBefore = from;
  cert.validity.notAfter = new Date(from.getTime() + (v.days ?? defaultDays) * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: cn }]);
  return cert;
}

/** A self-signed CA for a city's (or a test's) device fleet. */
export function createCa(cn = 'edge-agent dev CA', v: Validity = {}): Issued {
  const keyPem = rsaKey();
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = base(forge.pki.setRsaPublicKey(key.n, key.e), cn, v, 3650);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

function signLeaf(ca: Issued, cert: forge.pki.Certificate, ext: object[]): string {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    ...ext,
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(caKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** A broker (server) certificate; SANs default to localhost and 127.0.0.1. */
export function issueServer(
  ca: Issued,
  opts: { cn?: string; dns?: string[]; ips?: string[] } & Validity = {},
): Issued {
  const keyPem = rsaKey();
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = base(forge.pki.setRsaPublicKey(key.n, key.e), opts.cn ?? 'localhost', opts, 397);
  const altNames = [
    ...(opts.dns ?? ['localhost']).map((value) => ({ type: 2, value })),
    ...(opts.ips ?? ['127.0.0.1']).map((ip) => ({ type: 7, ip })),
  ];
  const certPem = signLeaf(ca, cert, [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
  return { certPem, keyPem };
}

/** Signs a device's CSR into a client certificate. CN = device id, as the CSR says (checked against `expectCn`). */
export function signCsr(ca: Issued, csrPem: string, opts: { expectCn?: string } & Validity = {}): string {
  const csr = forge.pki.certificationRequestFromPem(csrPem);
  if (!csr.verify()) throw new Error('CSR signature does not verify');
  const cn = csr.subject.getField('CN')?.value as string | undefined;
  if (!cn || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(cn))
    throw new Error(`CSR common name ${JSON.stringify(cn)} is not a valid device id`);
  if (opts.expectCn !== undefined && cn !== opts.expectCn)
    throw new Error(`CSR names ${cn}, expected ${opts.expectCn}`);
  if (!csr.publicKey) throw new Error('CSR has no public key');
  const cert = base(csr.publicKey, cn, opts, 397);
  return signLeaf(ca, cert, [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
}

/** Key, CSR and client certificate in one step (collector identities, tests). */
export function issueClient(ca: Issued, cn: string, v: Validity = {}): Issued {
  const keyPem = rsaKey();
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  csr.setSubject([{ name: 'commonName', value: cn }]);
  csr.sign(key, forge.md.sha256.create());
  return { certPem: signCsr(ca, forge.pki.certificationRequestToPem(csr), v), keyPem };
}
