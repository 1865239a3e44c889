import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemRandom } from '../../../agent/src/core/index.js';
import { backoffDelay, classify, retryDelay } from '../../../agent/src/sync/index.js';

const err = (code: string | number, message = 'x') => Object.assign(new Error(message), { code });

describe('link errors', () => {
  it('names each failure a technician can act on', () => {
    const cases: [Error, string][] = [
      [err('ECONNREFUSED'), 'TCP_REFUSED'],
      [err('ENOTFOUND'), 'DNS_FAILED'],
      [err('EHOSTUNREACH'), 'NETWORK_UNREACHABLE'],
      [err('CERT_HAS_EXPIRED'), 'SERVER_CERT_EXPIRED'],
      [err('CERT_NOT_YET_VALID'), 'SERVER_CERT_NOT_YET_VALID'],
      [err('ERR_TLS_CERT_ALTNAME_INVALID'), 'SERVER_NAME_MISMATCH'],
      [err('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'SERVER_CERT_UNTRUSTED'],
      [err('SELF_SIGNED_CERT_IN_CHAIN'), 'SERVER_CERT_UNTRUSTED'],
      [
        err('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'tlsv13 alert certificate required'),
        'CLIENT_CERT_REFUSED',
      ],
      [err('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'tlsv1 alert unknown ca'), 'CLIENT_CERT_REFUSED'],
      [err('ECONNRESET'), 'CONNECTION_RESET'],
      [err(135, 'Connection refused: Not authorized'), 'CONNACK_REFUSED'],
      [err('EWHATEVER'), 'LINK_ERROR'],
    ];
    for (const [e, code] of cases) {
      const c = classify(e, 'broker:8883');
      assert.equal(c.code, code, `${String((e as Error & { code: unknown }).code)}`);
      assert.match(c.message, /broker:8883/);
      assert.equal(c.cause, e);
    }
  });

  it('backs off with full jitter below an exponential cap', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const cap = Math.min(60_000, 1000 * 2 ** attempt);
      const samples = Array.from({ length: 200 }, () => backoffDelay(attempt, 1000, 60_000, systemRandom));
      assert.ok(
        samples.every((d) => d >= 0 && d < cap),
        `attempt ${attempt} within [0, ${cap})`,
      );
      assert.ok(Math.max(...samples) > cap / 2, 'spread over the range, not stuck at the bottom');
    }
    const zero = { bytes: (n: number) => new Uint8Array(n) };
    const top = { bytes: (n: number) => new Uint8Array(n).fill(255) };
    assert.equal(backoffDelay(3, 1000, 60_000, zero), 0);
    assert.equal(backoffDelay(3, 1000, 60_000, top), 7999);
  });

  it('never starts two attempts less than the minimum apart, however quickly a session drops', () => {
    const zero = { bytes: (n: number) => new Uint8Array(n) };
    // A CONNACK and a drop 50 ms after the attempt began, with the luckiest jitter draw.
    assert.equal(retryDelay(0, 50, 1000, 60_000, zero), 950);
    for (const since of [0, 10, 400, 999, 1000, 5000])
      for (let attempt = 0; attempt < 8; attempt++) {
        const d = retryDelay(attempt, since, 1000, 60_000, systemRandom);
        assert.ok(since + d >= 1000, `attempt ${attempt}, ${since} ms in: next after ${since + d} ms`);
        assert.ok(d < Math.max(0, 1000 - since) + Math.min(60_000, 1000 * 2 ** attempt));
      }
  });
});
