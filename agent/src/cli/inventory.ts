import { existsSync } from 'node:fs';
import { type AgentConfig, configPath, loadConfig } from '../config/index.js';
import { ExitCode } from '../core/index.js';
import { BUILD_FLOOR_MS } from '../monitor/index.js';
import { assess, discover, profilesFrom } from '../sensors/index.js';
import { type Audience, TrustStore } from '../trust/index.js';
import { parse } from './args.js';
import { type Io, println, table } from './io.js';

export const INVENTORY_HELP = `Usage: edge-agent inventory [--root DIR] [--config FILE] [--json]

Lists what is attached to the gateway (USB devices, serial ports, 1-Wire and I2C
sensors, LAN peers, sensors declared in the config) with a verdict from the signed
firmware profiles: approved, unknown-model, unknown-firmware, vulnerable (with
CVEs), unsupported or declared-missing. Runs without the daemon; --root reads a
mounted image or a fixture tree. Exit code 0 when all are approved, 1 otherwise.`;

export async function inventoryCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { root: { type: 'string' } });
  if (values.help) {
    println(io.stdout, INVENTORY_HELP);
    return ExitCode.Ok;
  }
  const file = configPath(values.config, io.env);
  const cfg: AgentConfig | null = values.config || existsSync(file) ? loadConfig(file) : null;
  const root = values.root ?? cfg?.monitor.root ?? '/';
  const warnings: string[] = [];
  let profiles: ReturnType<typeof profilesFrom> = null;
  if (cfg) {
    const trust = new TrustStore(cfg.storage.dir, cfg.trust.rootKey);
    trust.load();
    profiles = profilesFrom(cfg.sensors.profilesBundle, cfg.storage.dir, trust, cliAudience(cfg), (r) =>
      warnings.push(`profiles bundle refused: ${r}`),
    );
  }
  if (!profiles) warnings.push('no signed profiles bundle: every model is unknown');
  const d = discover(root, cfg?.sensors.declared ?? []);
  warnings.push(...d.warnings);
  const present = new Set([
    ...d.ports,
    ...d.devices.filter((x) => x.bus !== 'declared').map((x) => x.location),
  ]);
  const list = assess(d.devices, profiles?.profiles ?? [], Date.now(), present);
  if (values.json)
    println(
      io.stdout,
      JSON.stringify({ root, profilesVersion: profiles?.version ?? null, devices: list, warnings }, null, 2),
    );
  else {
    println(
      io.stdout,
      table(
        ['device', 'bus', 'ids', 'firmware', 'verdict', 'CVEs'],
        list.map((x) => [
          x.model ?? x.product ?? x.declaredModel ?? '-',
          `${x.bus} ${x.location}`,
          x.vendorId ? `${x.vendorId}:${x.productId ?? ''}` : (x.mac ?? '-'),
          x.firmware ?? '-',
          x.verdict,
          x.cves.map((c) => `${c.id} (${c.severity})`).join(', ') || '-',
        ]),
      ),
    );
    for (const w of warnings) println(io.stderr, `warning: ${w}`);
  }
  return list.every((x) => x.verdict === 'approved') ? ExitCode.Ok : ExitCode.Findings;
}

/**
 * This gateway as a command judges a signed bundle for it: the daemon's clock
 * verdict is not at hand, so a date before this build counts as implausible.
 */
export function cliAudience(cfg: AgentConfig): Audience {
  const nowMs = Date.now();
  return { deviceId: cfg.device.id, groups: cfg.device.groups, nowMs, clockTrusted: nowMs >= BUILD_FLOOR_MS };
}
