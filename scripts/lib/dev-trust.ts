import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawPublicKey } from '../../agent/src/telemetry/index.js';
import { signDocument } from '../../agent/src/trust/index.js';

/** What a development platform needs so agents accept its acks (DESIGN.md Ack, Trust). */
export interface DevTrust {
  /** Base64 raw root public key: the agent's `trust.rootKey`. */
  rootKey: string;
  /** The collector role key that signs acks. */
  collectorKey: KeyObject;
  /** The root-signed keys document naming the collector key. */
  keysDocument: Buffer;
  files: { root: string; collector: string; keys: string };
}

function keyFile(file: string): KeyObject {
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  }
  return createPrivateKey(readFileSync(file));
}

/**
 * Makes (or reuses) a root key, a collector key and the keys document v1 naming
 * the collector key, under `dir` (keys 0600). A real platform makes the same
 * with `npm run sign -- keygen` and `sign -- keys --collector`, the root offline.
 */
export function devTrust(dir: string): DevTrust {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = {
    root: join(dir, 'root.key'),
    collector: join(dir, 'collector-ack.key'),
    keys: join(dir, 'keys-v1.json'),
  };
  const root = keyFile(files.root);
  const collectorKey = keyFile(files.collector);
  const rootPub = rawPublicKey(root);
  const collectorPub = Buffer.from(rawPublicKey(collectorKey)).toString('base64');
  if (!existsSync(files.keys)) {
    const doc = {
      type: 'keys' as const,
      version: 1,
      issuedAt: new Date().toISOString(),
      body: { roles: { collector: { publicKeys: [collectorPub] } } },
    };
    writeFileSync(files.keys, signDocument(doc, [{ privateKey: root, publicKey: rootPub }]));
  }
  return {
    rootKey: Buffer.from(rootPub).toString('base64'),
    collectorKey,
    keysDocument: readFileSync(files.keys),
    files,
  };
}
