import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Finding,
  indexFeed,
  loadFeed,
  matchFeed,
  readInventory,
  type SoftwareInventory,
} from '../../../agent/src/software/index.js';
import { TrustStore } from '../../../agent/src/trust/index.js';
import { repoRoot } from '../../helpers/paths.js';
import { vulnfeed } from '../../helpers/software.js';
import { docKey, trustProfilesKey } from '../../helpers/trust.js';
import { addDefect, emptyResult, type Row } from '../lib.js';

const ADVISORIES = join(repoRoot, 'test', 'fixtures', 'software', 'agent-deps-osv');

/** Versions each advisory in the fixture affects: the control that the feed and matcher find what they should. */
const KNOWN_BAD: Record<string, string> = {
  protobufjs: '7.2.3',
  'node-forge': '1.2.1',
  ws: '8.17.0',
  semver: '7.5.1',
  minimist: '1.2.5',
  'tar-fs': '2.1.1',
  'simple-get': '4.0.0',
  luxon: '3.2.0',
  systeminformation: '5.21.6',
};

const urgent = (f: Finding) => f.severity === 'high' || f.severity === 'critical';

/**
 * S10: the agent's own SBOM (its production npm dependencies, from the lock
 * file it runs with, as `edge-agent sbom` reads them) matched against a signed
 * `vulnerabilities` feed built from OSV advisories for those packages with the
 * project's feed builder, verified as the agent verifies a feed. `npm audit`
 * answers 405 from this machine's registry, hence the feed.
 */
export const s10: Row = {
  id: 'S10',
  what: "known high/critical vulnerabilities in the agent's production dependencies (own SBOM vs signed feed)",
  async run(ctx) {
    const r = emptyResult('cases');
    const root = docKey();
    const profiles = docKey();
    const keyFile = join(ctx.dir, 'profiles.key');
    writeFileSync(keyFile, profiles.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const out = join(ctx.dir, 'feed.json');
    const b = vulnfeed(['--key', keyFile, '--version', '1', '--out', out, '--osv', ADVISORIES]);
    if (b.code !== 0) throw new Error(`vulnfeed failed: ${b.stderr}`);
    const data = join(ctx.dir, 'data');
    trustProfilesKey(data, root, profiles);
    const store = new TrustStore(data, root.b64);
    store.load();
    const feed = loadFeed(readFileSync(out), store);
    const idx = indexFeed(feed);
    const inv = readInventory('/', { lockfile: join(repoRoot, 'package-lock.json') });
    const own: SoftwareInventory = { ...inv, components: inv.components.filter((c) => c.kind === 'npm') };
    if (own.components.length === 0) throw new Error('the SBOM lists no npm component: nothing to judge');
    const findings = matchFeed(own, idx);
    r.cases = own.components.length;
    for (const f of findings.filter(urgent))
      addDefect(
        r,
        `${f.component.name}@${f.component.version}: ${f.id} (${f.severity}${f.fixed ? `, fixed in ${f.fixed}` : ', no fix'})`,
        20,
      );
    // The control: the same tree at versions the advisories name must be found, or a 0 proves nothing.
    const bad: SoftwareInventory = {
      ...own,
      components: own.components.map((c) => (KNOWN_BAD[c.name] ? { ...c, version: KNOWN_BAD[c.name] } : c)),
    };
    const caught = new Set(
      matchFeed(bad, idx)
        .filter(urgent)
        .map((f) => f.component.name),
    );
    const present = Object.keys(KNOWN_BAD).filter((n) => own.components.some((c) => c.name === n));
    const missed = present.filter((n) => !caught.has(n));
    if (present.length === 0)
      addDefect(r, 'none of the control packages is in the SBOM: the control proves nothing');
    for (const n of missed) addDefect(r, `control: ${n}@${KNOWN_BAD[n]} is not found vulnerable`);
    const lower = findings.filter((f) => !urgent(f));
    r.notes = `${own.components.length} production npm packages against ${feed.records.length} signed advisory records: ${findings.filter(urgent).length} high/critical, ${lower.length} lower${lower.length ? ` (${lower.map((f) => `${f.component.name} ${f.id}`).join(', ')})` : ''}; control caught ${present.length - missed.length}/${present.length} known-vulnerable versions`;
    ctx.log(r.notes);
    return r;
  },
};
