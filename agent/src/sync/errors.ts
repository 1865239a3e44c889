import { AgentError } from '../core/index.js';

/** Why the link is down; each has its own code so `status` and the logs can tell them apart. */
export type LinkFailure =
  | 'TCP_REFUSED'
  | 'DNS_FAILED'
  | 'NETWORK_UNREACHABLE'
  | 'SERVER_CERT_UNTRUSTED'
  | 'SERVER_NAME_MISMATCH'
  | 'SERVER_CERT_EXPIRED'
  | 'SERVER_CERT_NOT_YET_VALID'
  | 'CLIENT_CERT_REFUSED'
  | 'CONNECTION_RESET'
  | 'CONNACK_TIMEOUT'
  | 'CONNACK_REFUSED'
  | 'PLAINTEXT_REFUSED'
  | 'TLS_FILES'
  | 'PACKET_TOO_LARGE'
  | 'LINK_ERROR';

export class LinkError extends AgentError {
  declare readonly code: LinkFailure;
  constructor(code: LinkFailure, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/**
 * Maps a socket, TLS or MQTT error to a named failure a technician can act on.
 * A "decrypt error" alert during the handshake is the server failing to verify
 * our certificate (seen with a foreign CA that copies the real CA's name).
 */
export function classify(err: unknown, where: string): LinkError {
  if (err instanceof LinkError) return err;
  const e = err as { code?: string | number; message?: string };
  const code = e.code;
  const msg = e.message ?? String(err);
  const mk = (c: LinkFailure, m: string) => new LinkError(c, m, { cause: err });
  if (typeof code === 'number')
    return mk('CONNACK_REFUSED', `${where} refused the MQTT connection: ${msg} (reason ${code})`);
  switch (code) {
    case 'ECONNREFUSED':
      return mk('TCP_REFUSED', `${where} refused the TCP connection (nothing listening?)`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return mk('DNS_FAILED', `cannot resolve the broker's name in ${where}`);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return mk('NETWORK_UNREACHABLE', `${where} is unreachable (${code})`);
    case 'CERT_HAS_EXPIRED':
      return mk(
        'SERVER_CERT_EXPIRED',
        `the broker's certificate at ${where} has expired (or the gateway's clock is wrong)`,
      );
    case 'CERT_NOT_YET_VALID':
      return mk(
        'SERVER_CERT_NOT_YET_VALID',
        `the broker's certificate at ${where} is not valid yet (is the gateway's clock behind?)`,
      );
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return mk(
        'SERVER_NAME_MISMATCH',
        `the broker's certificate does not name the host we connected to (${where}): ${msg}`,
      );
    case 'ECONNRESET':
    case 'EPIPE':
      return mk(
        'CONNECTION_RESET',
        `${where} closed the connection during the handshake (client certificate refused?)`,
      );
  }
  if (typeof code === 'string' && UNTRUSTED.has(code)) {
    return mk(
      'SERVER_CERT_UNTRUSTED',
      `the broker's certificate at ${where} does not chain to the pinned CA (${code})`,
    );
  }
  if (
    /alert (certificate required|bad certificate|unknown ca|certificate unknown|access denied|certificate revoked|certificate expired|decrypt error)/i.test(
      msg,
    ) ||
    /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|DECRYPT_ERROR)/.test(
      String(code),
    )
  ) {
    return mk('CLIENT_CERT_REFUSED', `the broker at ${where} refused our client certificate: ${msg}`);
  }
  return mk('LINK_ERROR', `${where}: ${msg}`);
}
