import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { repoRoot } from './paths.js';
import type { DocKey } from './trust.js';

export { trustProfilesKey } from './trust.js';

/** dpkg's own verdict for many pairs at once: one shell, `lt` then `eq`, -1 / 0 / 1 per line. */
export function dpkgCompare(pairs: [string, string][]): number[] {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = pairs
    .map(
      ([a, b]) =>
        `if dpkg --compare-versions ${q(a)} lt ${q(b)}; then echo -1; elif dpkg --compare-versions ${q(a)} eq ${q(b)}; then echo 0; else echo 1; fi`,
    )
    .join('\n');
  const r = spawnSync('sh', ['-s'], { input: script, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  assert.equal(r.status, 0, `dpkg --compare-versions failed (dpkg is needed): ${r.stderr}`);
  const out = r.stdout.trim().split('\n').map(Number);
  assert.equal(out.length, pairs.length, r.stderr);
  return out;
}

/** The fixture gateway image (Debian 12 dpkg status, os-release, /proc, the agent's lock file). */
export const IMAGE = join(repoRoot, 'test', 'fixtures', 'software', 'image');
/** The downloaded-data fixtures the builder reads. */
export const SOURCES = join(repoRoot, 'test', 'fixtures', 'software', 'sources');
const BUILDER = join(repoRoot, 'dist', 'scripts', 'vulnfeed', 'main.js');

/** Runs the feed builder (scripts/vulnfeed) as an operator would. */
export function vulnfeed(args: string[]) {
  const r = spawnSync(process.execPath, [BUILDER, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Builds the fixture feed (Debian tracker for bookworm, OSV, KEV) signed with `key`; returns the file. */
export function fixtureFeed(dir: string, key: DocKey, version: number): string {
  const keyFile = join(dir, `profiles-${version}.key`);
  writeFileSync(keyFile, key.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const out = join(dir, `feed-v${version}.json`);
  const r = vulnfeed([
    '--key',
    keyFile,
    '--version',
    String(version),
    '--out',
    out,
    '--issued-at',
    '2026-11-26T12:00:00Z',
    '--debian',
    join(SOURCES, 'debian-tracker.json'),
    '--release',
    'bookworm',
    '--osv',
    join(SOURCES, 'osv'),
    '--kev',
    join(SOURCES, 'kev.json'),
  ]);
  if (r.code !== 0) throw new Error(`vulnfeed failed: ${r.stderr}`);
  return out;
}

/** A validator for CycloneDX 1.6 JSON from the schema files the CycloneDX library ships. */
export function cycloneDxValidator(): (doc: unknown) => string[] {
  const dir = join(repoRoot, 'node_modules', '@cyclonedx', 'cyclonedx-library', 'res', 'schema');
  const load = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
  const ajv = new Ajv.default({ strict: false, allErrors: true });
  addFormats.default(ajv);
  // Formats of JSON Schema 2019 the library leaves to ajv-formats-draft2019: accepted as strings.
  ajv.addFormat('iri-reference', true);
  ajv.addFormat('idn-email', true);
  for (const f of [
    'spdx.SNAPSHOT.schema.json',
    'jsf-0.82.SNAPSHOT.schema.json',
    'cryptography-defs.SNAPSHOT.schema.json',
  ])
    ajv.addSchema({ ...load(f), $id: `http://cyclonedx.org/schema/${f}` });
  const validate = ajv.compile(load('bom-1.6.SNAPSHOT.schema.json'));
  return (doc) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
}
