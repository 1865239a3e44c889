import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type AgentConfig, configPath, loadConfig } from '../config/index.js';
import { AgentError, ExitCode, systemRandom } from '../core/index.js';
import {
  buildSbom,
  feedInForce,
  indexFeed,
  matchFeed,
  readInventory,
  serialFrom,
} from '../software/index.js';
import { AGENT_VERSION } from '../version.js';
import { parse } from './args.js';
import { cliAudience } from './inventory.js';
import { type Io, println, table } from './io.js';

export const SBOM_HELP = `Usage: edge-agent sbom [--root DIR] [--config FILE] [--json]

The gateway's own software: the Debian packages in dpkg's database (read
directly, so --root works on a mounted image), the running kernel and the
agent's production npm dependencies, matched against the signed vulnerability
feed (software.feed, or the daemon's last good copy; inside the image when
--root holds them). --json prints the SBOM as
CycloneDX 1.6 JSON, with the findings as its vulnerabilities; otherwise a summary
and one line per vulnerable package. Runs without the daemon.
Exit code 0 when nothing known is vulnerable, 1 when something is, 2 when the
dpkg database is present but unreadable or corrupt.`;

/** The gateway's name for the BOM: the configured device id, else the image's hostname. */
function deviceName(cfg: AgentConfig | null, root: string): string {
  if (cfg) return cfg.device.id;
  try {
    const h = readFileSync(join(root, 'etc/hostname'), 'utf8').trim();
    if (/^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/.test(h)) return h;
  } catch {
    // no hostname file in the image
  }
  return root === '/' ? hostname() : 'gateway';
}

export async function sbomCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { root: { type: 'string' } });
  if (values.help) {
    println(io.stdout, SBOM_HELP);
    return ExitCode.Ok;
  }
  const file = configPath(values.config, io.env);
  const cfg: AgentConfig | null = values.config || existsSync(file) ? loadConfig(file) : null;
  const root = values.root ?? cfg?.monitor.root ?? '/';
  const inv = readInventory(root);
  if (inv.dpkg.state === 'corrupt')
    throw new AgentError('DPKG_STATUS_CORRUPT', `${inv.dpkg.problem}: the package list cannot be trusted`);
  const warnings = [...inv.warnings];
  const feed = cfg
    ? feedInForce(
        root,
        { feedFile: cfg.software.feed, stateDir: cfg.storage.dir },
        cfg.trust.rootKey,
        (r) => warnings.push(`vulnerability feed refused: ${r}`),
        cliAudience(cfg),
      )
    : null;
  if (!feed) warnings.push('no signed vulnerability feed: nothing is judged vulnerable or not');
  const findings = feed ? matchFeed(inv, indexFeed(feed)) : [];
  if (values.json) {
    const json = buildSbom(inv, {
      deviceId: deviceName(cfg, root),
      agentVersion: AGENT_VERSION,
      nowMs: Date.now(),
      serialNumber: serialFrom(systemRandom.bytes(16)),
      findings,
      feedVersion: feed?.version,
    });
    println(io.stdout, JSON.stringify(JSON.parse(json), null, 2));
    for (const w of warnings) println(io.stderr, `warning: ${w}`);
    return findings.length ? ExitCode.Findings : ExitCode.Ok;
  }
  const count = (k: string) => inv.components.filter((c) => c.kind === k).length;
  const kernel = inv.components.find((c) => c.kind === 'kernel');
  println(
    io.stdout,
    `${inv.os?.prettyName ?? 'unknown OS'}: ${count('deb')} Debian package(s), kernel ${kernel?.version ?? 'not running'}, ${count('npm')} npm package(s) of the agent; feed ${feed ? `v${feed.version} (${feed.records.length} records)` : 'none'}`,
  );
  if (findings.length)
    println(
      io.stdout,
      table(
        ['vulnerability', 'severity', 'CVSS', 'KEV', 'package', 'installed', 'fixed in'],
        findings.map((f) => [
          f.id,
          f.severity,
          f.cvss?.toFixed(1) ?? '-',
          f.kev ? 'yes' : '-',
          f.component.name,
          f.component.version,
          f.fixed ?? 'no fix yet',
        ]),
      ),
    );
  else if (feed) println(io.stdout, 'no known vulnerability');
  for (const w of warnings) println(io.stderr, `warning: ${w}`);
  return findings.length ? ExitCode.Findings : ExitCode.Ok;
}
