import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildSbom,
  indexFeed,
  loadFeed,
  matchFeed,
  readInventory,
  type VulnRecord,
} from '../../agent/src/software/index.js';
import { rawPublicKey } from '../../agent/src/telemetry/index.js';
import { signDocument, TrustStore } from '../../agent/src/trust/index.js';

const IMAGE = fileURLToPath(new URL('../../../test/fixtures/software/image', import.meta.url));
const ms = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;

/**
 * The SBOM of a real Debian system (this machine's `/` when it has a dpkg
 * database, else the fixture image) and matching it against a signed feed of
 * `records` records: a tenth for packages that are installed, the rest not.
 */
export function benchSoftware(dir: string, records = 100_000) {
  const root = existsSync('/var/lib/dpkg/status') ? '/' : IMAGE;
  let t0 = performance.now();
  const inv = readInventory(root);
  const inventoryMs = ms(t0);
  t0 = performance.now();
  const sbom = buildSbom(inv, {
    deviceId: 'bench-gw',
    agentVersion: '0',
    nowMs: Date.now(),
    serialNumber: 'urn:uuid:00000000-0000-4000-8000-000000000000',
  });
  const sbomMs = ms(t0);
  const sources = [
    ...new Set(inv.components.flatMap((c) => (c.kind === 'deb' && c.source ? [c.source] : []))),
  ];
  const list: VulnRecord[] = Array.from({ length: records }, (_, i) => ({
    id: `CVE-${2000 + (i % 26)}-${10000 + i}`,
    eco: 'deb',
    pkg: i % 10 === 0 && sources.length ? sources[i % sources.length] : `pkg-${i}`,
    release: 'bookworm',
    ranges: [{ fixed: `${1 + (i % 9)}.${i % 7}-${1 + (i % 3)}~deb12u${i % 5}` }],
    severity: (['critical', 'high', 'medium', 'low'] as const)[i % 4],
    cvss: (i % 100) / 10,
    ...(i % 50 === 0 ? { kev: true } : {}),
  }));
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = rawPublicKey(privateKey);
  const doc = Buffer.from(
    signDocument(
      {
        type: 'vulnerabilities',
        version: 1,
        issuedAt: new Date().toISOString(),
        body: { sources: ['bench'], records: list },
      },
      [{ privateKey, publicKey }],
    ),
  );
  const state = join(dir, 'software-trust');
  mkdirSync(state, { recursive: true });
  const root0 = generateKeyPairSync('ed25519');
  const store = new TrustStore(state, Buffer.from(rawPublicKey(root0.privateKey)).toString('base64'));
  store.load();
  store.applyKeys({
    type: 'keys',
    version: 1,
    issuedAt: new Date().toISOString(),
    body: { roles: { profiles: { publicKeys: [Buffer.from(publicKey).toString('base64')] } } },
  });
  t0 = performance.now();
  const feed = loadFeed(doc, store);
  const loadMs = ms(t0);
  t0 = performance.now();
  const findings = matchFeed(inv, indexFeed(feed));
  const matchMs = ms(t0);
  return {
    sbom_root: root,
    sbom_components: inv.components.length,
    sbom_inventory_ms: inventoryMs,
    sbom_cyclonedx_ms: sbomMs,
    sbom_bytes: sbom.length,
    feed_records: records,
    feed_bytes: doc.length,
    feed_verify_parse_ms: loadMs,
    feed_match_ms: matchMs,
    feed_findings: findings.length,
  };
}
