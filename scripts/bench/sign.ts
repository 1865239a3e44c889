import { generateKeyPairSync, sign } from 'node:crypto';
import nacl from 'tweetnacl';

/** Ed25519 signatures per second: Node's crypto (what the agent uses) and tweetnacl (for the record). */
export function benchSign(ms = 1000): { sign_per_s_crypto: number; sign_per_s_tweetnacl: number } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url');
  const kp = nacl.sign.keyPair.fromSeed(seed);
  const msg = Buffer.alloc(10_000, 7);
  const rate = (f: () => void) => {
    let n = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      f();
      n++;
    }
    return Math.round((n * 1000) / ms);
  };
  return {
    sign_per_s_crypto: rate(() => sign(null, msg, privateKey)),
    sign_per_s_tweetnacl: rate(() => nacl.sign.detached(msg, kp.secretKey)),
  };
}
