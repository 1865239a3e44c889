#!/usr/bin/env node
// scripts/vulnfeed: builds the signed `vulnerabilities` feed from data the
// operator downloads on a connected machine, signed with the profiles role key.
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { rawPublicKey } from '../../agent/src/telemetry/index.js';
import { signDocument } from '../../agent/src/trust/index.js';
import { buildFeedBody } from './build.js';

const HELP = `Usage: vulnfeed --key PROFILES.key --version N --out FILE
                [--debian TRACKER.json --release CODENAME] [--osv FILE|DIR]... [--kev KEV.json]
                [--issued-at RFC3339] [--not-after RFC3339]

Builds a signed "vulnerabilities" document (DESIGN.md's container, signed by the
profiles role key) for the agents' software check. Inputs, downloaded on a
connected machine:
  --debian   https://security-tracker.debian.org/tracker/data/json (needs --release, e.g. bookworm)
  --osv      OSV records: a file, an array, or a folder (https://osv.dev: npm and Debian ecosystems)
  --kev      CISA's known exploited vulnerabilities catalogue (JSON)
Publish the output on {prefix}/{deviceId}/vulnerabilities (retained) or copy it
to the gateway's software.feed file. The version must grow with every feed.`;

function fail(msg: string): never {
  process.stderr.write(`vulnfeed: ${msg}\n`);
  process.exit(2);
}

let o: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      key: { type: 'string' },
      version: { type: 'string' },
      out: { type: 'string' },
      debian: { type: 'string', multiple: true },
      release: { type: 'string' },
      osv: { type: 'string', multiple: true },
      kev: { type: 'string', multiple: true },
      'issued-at': { type: 'string' },
      'not-after': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
}
try {
  o = parse();
} catch (e) {
  fail(`${(e as Error).message}\n${HELP}`);
}
if (o.help) {
  console.log(HELP);
  process.exit(0);
}
const version = Number(o.version);
if (!o.key || !o.out || !o.version) fail(`--key, --version and --out are required\n${HELP}`);
if (!Number.isSafeInteger(version) || version < 1) fail('--version must be an integer from 1 to 2^53-1');
if (o.debian && !o.release) fail('--debian needs --release (the Debian codename, e.g. bookworm)');
if (!o.debian && !o.osv) fail('give at least one of --debian and --osv');
try {
  const { body, skipped } = buildFeedBody({
    debian: o.debian && o.release ? { files: o.debian, release: o.release } : undefined,
    osv: o.osv,
    kev: o.kev,
  });
  const privateKey = createPrivateKey(readFileSync(o.key));
  const doc = signDocument(
    {
      type: 'vulnerabilities',
      version,
      issuedAt: o['issued-at'] ?? new Date().toISOString(),
      ...(o['not-after'] ? { notAfter: o['not-after'] } : {}),
      body,
    },
    [{ privateKey, publicKey: rawPublicKey(privateKey) }],
  );
  writeFileSync(o.out, doc);
  const left = Object.entries(skipped)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  console.log(
    `vulnerabilities feed v${version}: ${body.records.length} records (${body.records.filter((r) => r.kev).length} known exploited) from ${body.sources.join(', ')}, ${doc.length} bytes, written to ${o.out}${left ? `; left out: ${left}` : ''}`,
  );
} catch (e) {
  fail((e as Error).message);
}
