#!/usr/bin/env node
// scripts/sign: the operator's tool for the trust hierarchy (DESIGN.md, Trust).
// Keys are made and kept offline; a file goes in, a signed file comes out.
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../../agent/src/config/index.js';
import { quietStdio } from '../../agent/src/core/index.js';
import { parseProfiles } from '../../agent/src/sensors/index.js';
import { keyIdOf, rawPublicKey } from '../../agent/src/telemetry/index.js';
import { type DocType, type KeysBody, type SignedDoc, signDocument } from '../../agent/src/trust/index.js';

const HELP = `Usage: sign <command> [options]

  keygen --name NAME --out DIR [--force]
      an Ed25519 key pair: DIR/NAME.key (PKCS#8 PEM, 0600) and DIR/NAME.pub (base64 raw key);
      an existing NAME.key is replaced only with --force
  keys --root ROOT.key --version N --out FILE [--config A.pub,B.pub] [--profiles P.pub] [--collector C.pub]
       [--new-root NEW.pub] [--min-version role=N,...]
      a root-signed keys document naming the role keys (replacing, so revoking, the old ones)
  config|profiles --key ROLE.key --version N --in BODY.json|DIR --out FILE
       [--devices a,b] [--groups g,h] [--not-after RFC3339] [--issued-at RFC3339]
      a config (settings, same schema as the config file) or profiles document

A missing output folder is created (0700); a .key file is written 0600, also when it replaces one.
The agent pins the root public key at enrollment (trust.rootKey = the content of root.pub).`;

// Whatever goes wrong (an unknown option, a missing or unreadable file) is one line and exit 2,
// never a stack trace: the tool is a script from top to bottom, so its boundary is the process.
process.on('uncaughtException', (e) => fail(e.message));
quietStdio();

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: 'string' },
    out: { type: 'string' },
    root: { type: 'string' },
    key: { type: 'string' },
    version: { type: 'string' },
    in: { type: 'string' },
    config: { type: 'string' },
    profiles: { type: 'string' },
    collector: { type: 'string' },
    'new-root': { type: 'string' },
    'min-version': { type: 'string' },
    devices: { type: 'string' },
    groups: { type: 'string' },
    'not-after': { type: 'string' },
    'issued-at': { type: 'string' },
    force: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});

function fail(msg: string): never {
  process.stderr.write(`sign: ${msg}\n`);
  process.exit(2);
}
const need = (k: keyof typeof o): string =>
  typeof o[k] === 'string' ? (o[k] as string) : fail(`--${k} is required`);
const signer = (file: string) => {
  const privateKey = createPrivateKey(readFileSync(file));
  return { privateKey, publicKey: rawPublicKey(privateKey) };
};
const pubs = (list?: string) =>
  list ? list.split(',').map((f) => readFileSync(f.trim(), 'utf8').trim()) : undefined;
const version = () => {
  const v = Number(need('version'));
  return Number.isSafeInteger(v) && v >= 1 ? v : fail('--version must be an integer from 1 to 2^53-1');
};
const header = (type: DocType, body: unknown): SignedDoc => {
  const d: SignedDoc = {
    type,
    version: version(),
    issuedAt: o['issued-at'] ?? new Date().toISOString(),
    body,
  };
  if (o['not-after']) d.notAfter = o['not-after'];
  if (o.devices || o.groups) d.target = { devices: o.devices?.split(','), groups: o.groups?.split(',') };
  return d;
};

const cmd = positionals[0];
if (o.help || !cmd) {
  console.log(HELP);
  process.exit(o.help ? 0 : 2);
}
switch (cmd) {
  case 'keygen': {
    const { privateKey } = generateKeyPairSync('ed25519');
    const dir = need('out');
    const name = need('name');
    // A root key exists once, offline: replacing it by accident would orphan every pinned agent.
    if (existsSync(join(dir, `${name}.key`)) && !o.force)
      fail(`${join(dir, `${name}.key`)} exists; pass --force to replace it`);
    writeFileAtomic(
      join(dir, `${name}.key`),
      privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      0o600,
    );
    const raw = rawPublicKey(privateKey);
    writeFileAtomic(join(dir, `${name}.pub`), `${Buffer.from(raw).toString('base64')}\n`, 0o644);
    console.log(
      `${name}: key id ${keyIdOf(raw)}, ${join(dir, `${name}.key`)} (keep offline) and ${join(dir, `${name}.pub`)}`,
    );
    break;
  }
  case 'keys': {
    const roles: KeysBody['roles'] = {};
    const mins = Object.fromEntries(
      (o['min-version'] ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => kv.split('='))
        .map(([k, v]) => [k, Number(v)]),
    );
    for (const role of ['config', 'profiles', 'collector'] as const) {
      const list = pubs(o[role]);
      if (list) roles[role] = { publicKeys: list, ...(mins[role] ? { minVersion: mins[role] } : {}) };
    }
    const body: KeysBody = { roles };
    const nr = pubs(o['new-root']);
    if (nr) body.root = nr[0];
    writeFileAtomic(need('out'), signDocument(header('keys', body), [signer(need('root'))]), 0o644);
    console.log(`keys document v${o.version} written to ${o.out}`);
    break;
  }
  case 'config':
  case 'profiles': {
    const src = need('in');
    // A folder of profile files (firmware-profiles/) becomes one bundle body.
    const body = statSync(src).isDirectory()
      ? {
          profiles: readdirSync(src)
            .filter((f) => f.endsWith('.json'))
            .sort()
            .map((f) => JSON.parse(readFileSync(join(src, f), 'utf8'))),
        }
      : JSON.parse(readFileSync(src, 'utf8'));
    if (cmd === 'profiles') {
      const r = parseProfiles(body);
      if (!r.ok) fail(`invalid profiles:\n${r.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
    }
    writeFileAtomic(need('out'), signDocument(header(cmd, body), [signer(need('key'))]), 0o644);
    console.log(`${cmd} document v${o.version} written to ${o.out}`);
    break;
  }
  default:
    fail(`unknown command ${cmd}\n${HELP}`);
}
