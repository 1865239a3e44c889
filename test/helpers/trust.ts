import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawPublicKey } from '../../agent/src/telemetry/index.js';
import { type DocType, type SignedDoc, signDocument, TrustStore } from '../../agent/src/trust/index.js';
import { repoRoot } from './paths.js';

/** An Ed25519 key for signing documents in tests. */
export function docKey() {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = rawPublicKey(privateKey);
  return { privateKey, publicKey, b64: Buffer.from(publicKey).toString('base64') };
}
export type DocKey = ReturnType<typeof docKey>;

export function makeDoc(
  type: DocType,
  version: number,
  body: unknown,
  key: DocKey,
  extra: Partial<SignedDoc> = {},
): Buffer {
  return Buffer.from(
    signDocument({ type, version, issuedAt: '2026-11-26T10:00:00Z', body, ...extra }, [key]),
  );
}

/** The shipped profiles from firmware-profiles/. */
export const shippedProfiles = (): unknown[] =>
  readdirSync(join(repoRoot, 'firmware-profiles'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(repoRoot, 'firmware-profiles', f), 'utf8')));

/**
 * A data dir whose trust state names `profilesKey` as the profiles role key (and
 * `collectorKey`, when given: the key acks are signed with), signed by `rootKey`.
 */
export function trustProfilesKey(
  dataDir: string,
  rootKey: DocKey,
  profilesKey: DocKey,
  collectorKey?: DocKey,
): void {
  mkdirSync(dataDir, { recursive: true });
  const store = new TrustStore(dataDir, rootKey.b64);
  store.load();
  store.applyKeys({
    type: 'keys',
    version: 1,
    issuedAt: '2026-11-26T00:00:00Z',
    body: {
      roles: {
        profiles: { publicKeys: [profilesKey.b64] },
        ...(collectorKey ? { collector: { publicKeys: [collectorKey.b64] } } : {}),
      },
    },
  });
}

/** A data dir that trusts `profilesKey` (and `collectorKey`) and holds a bundle of the shipped profiles. */
export function installProfiles(
  dataDir: string,
  rootKey: DocKey,
  profilesKey: DocKey,
  version = 1,
  collectorKey?: DocKey,
): void {
  trustProfilesKey(dataDir, rootKey, profilesKey, collectorKey);
  writeFileSync(
    join(dataDir, 'profiles-bundle.json'),
    makeDoc('profiles', version, { profiles: shippedProfiles() }, profilesKey),
  );
}
