import type { KeyRing } from '../../../agent/src/telemetry/index.js';
import { verifyEd25519 } from '../../../agent/src/telemetry/index.js';
import { signCsr } from '../../../scripts/pki/lib.js';

/** Why a CSR request was refused: the collector's `rejected` counter names it. */
export class CsrRefused extends Error {
  override readonly name = 'CsrRefused';
  constructor(
    readonly code: 'CSR_BAD_SIGNATURE' | 'CSR_DEVICE_MISMATCH' | 'CSR_INVALID',
    message: string,
  ) {
    super(message);
  }
}

/**
 * CA mode: a CSR request signed with the device's Ed25519 key. The signer must be the
 * registered key of the device the topic names, the request must name the same device,
 * and the CSR's CN too. Returns the certificate chain to publish on `cert/issued`.
 */
export function answerCsr(
  device: string,
  payload: Buffer,
  ring: KeyRing,
  ca: { certPem: string; keyPem: string; days?: number },
): string {
  let c: { signed: string; signatures: { keyId: string; sig: string }[] };
  try {
    c = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    throw new CsrRefused('CSR_INVALID', `${device}: ${(e as Error).message}`);
  }
  if (typeof c?.signed !== 'string' || !Array.isArray(c.signatures))
    throw new CsrRefused('CSR_INVALID', `${device}: not a signed request`);
  const signed = Buffer.from(c.signed, 'base64');
  const ok = c.signatures.some((s) => {
    const k = typeof s?.keyId === 'string' ? ring.get(s.keyId) : undefined;
    return k && k.owner === device && verifyEd25519(k.key, signed, Buffer.from(String(s.sig), 'base64'));
  });
  if (!ok)
    throw new CsrRefused(
      'CSR_BAD_SIGNATURE',
      `${device}: the CSR request is not signed by ${device}'s registered key`,
    );
  let req: { type?: string; deviceId?: string; csr?: string };
  try {
    req = JSON.parse(signed.toString('utf8'));
  } catch (e) {
    throw new CsrRefused('CSR_INVALID', `${device}: ${(e as Error).message}`);
  }
  if (req.type !== 'csr' || req.deviceId !== device)
    throw new CsrRefused('CSR_DEVICE_MISMATCH', `${device}: request names ${String(req.deviceId)}`);
  try {
    const cert = signCsr({ certPem: ca.certPem, keyPem: ca.keyPem }, String(req.csr), {
      expectCn: device,
      days: ca.days,
    });
    return `${cert}${ca.certPem}`;
  } catch (e) {
    throw new CsrRefused('CSR_INVALID', `${device}: ${(e as Error).message}`);
  }
}
