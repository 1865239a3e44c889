import nacl from 'tweetnacl';

const EPK = nacl.box.publicKeyLength;
const NONCE = nacl.box.nonceLength;

/**
 * Encrypts a value to the platform (DESIGN.md `Reading.sealed`): ephemeral X25519
 * public key ‖ 24-byte nonce ‖ nacl.box of `{"v": value}`. The ephemeral secret is
 * wiped at once, so neither the device nor its SD card can open the result.
 */
export function sealValue(
  value: unknown,
  platformPublicKey: Uint8Array,
  randomBytes: (n: number) => Uint8Array,
): Uint8Array {
  const eph = nacl.box.keyPair();
  try {
    const nonce = randomBytes(NONCE);
    const box = nacl.box(
      new TextEncoder().encode(JSON.stringify({ v: value })),
      nonce,
      platformPublicKey,
      eph.secretKey,
    );
    const out = new Uint8Array(EPK + NONCE + box.length);
    out.set(eph.publicKey, 0);
    out.set(nonce, EPK);
    out.set(box, EPK + NONCE);
    return out;
  } finally {
    eph.secretKey.fill(0);
  }
}

/** The platform's side: opens a sealed value with its secret key; null when it does not open. */
export function openSealed(sealed: Uint8Array, platformSecretKey: Uint8Array): unknown {
  if (sealed.length < EPK + NONCE + nacl.box.overheadLength) return null;
  const plain = nacl.box.open(
    sealed.subarray(EPK + NONCE),
    sealed.subarray(EPK, EPK + NONCE),
    sealed.subarray(0, EPK),
    platformSecretKey,
  );
  if (!plain) return null;
  return (JSON.parse(new TextDecoder().decode(plain)) as { v: unknown }).v;
}
