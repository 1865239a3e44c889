import { existsSync } from 'node:fs';
import { type AuditContext, type AuditReport, auditContext, imageAuditContext } from '../audit/index.js';
import { type AgentConfig, configPath, loadConfig } from '../config/index.js';
import { ExitCode, Severity, shown } from '../core/index.js';
import { parse } from './args.js';
import { printFindings } from './findings.js';
import { type Io, println, table } from './io.js';

export const AUDIT_HELP = `Usage: edge-agent audit [--root DIR] [--no-probe] [--config FILE] [--json]

Checks the gateway's security posture against ETSI EN 303 645 and IEC 62443-4-2:
default or empty passwords (every hash scheme, yescrypt included), extra UID-0
accounts, sshd settings, listening sockets, key and /etc permissions, time sync,
firewall, automatic updates, serial console and debug interfaces, and the agent's
own transport (with an active probe of the broker unless --no-probe).
--root audits a mounted SD-card image or a fixture tree without the daemon: every
path (symlinks included) is resolved inside the image, the agent checks judge the
image's own /etc/edge-agent/config.json (--config is not used; an image without
the agent makes them not-applicable), and nothing is probed over the network.
A check whose input is missing is not-applicable; one it cannot read is not-readable.
Exit code 0 when no check of high severity fails, 1 otherwise, 2 when it could not run.`;

export async function auditCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { root: { type: 'string' }, 'no-probe': { type: 'boolean' } });
  if (values.help) {
    println(io.stdout, AUDIT_HELP);
    return ExitCode.Ok;
  }
  const { runAudit } = await import('../audit/index.js');
  let ctx: AuditContext;
  if (values.root !== undefined) {
    // An image is judged by its own agent config, inside the image; this machine's config plays no part.
    ctx = imageAuditContext(values.root);
  } else {
    const file = configPath(values.config, io.env);
    const cfg: AgentConfig | null = values.config || existsSync(file) ? loadConfig(file) : null;
    ctx = auditContext(cfg?.monitor.root ?? '/', cfg, { probe: !values['no-probe'] });
  }
  const report = await runAudit(ctx, Date.now());
  if (values.json) println(io.stdout, JSON.stringify(report, null, 2));
  else printReport(report, io);
  return report.highFailures.length > 0 ? ExitCode.Findings : ExitCode.Ok;
}

function printReport(r: AuditReport, io: Io): void {
  println(
    io.stdout,
    `audit of ${shown(r.root)} at ${r.checkedAt}: score ${r.score}/100  (${r.counts.pass} pass, ${r.counts.fail} fail, ${r.counts['not-readable']} not readable, ${r.counts['not-applicable']} not applicable)\n`,
  );
  printFindings(io, r.checks);
  println(io.stdout, '\nETSI EN 303 645:');
  println(
    io.stdout,
    table(
      ['provision', 'status', 'checks'],
      r.etsi.map((p) => [p.provision, p.status, p.checks.join(', ')]),
    ),
  );
  if (r.highFailures.length)
    println(
      io.stdout,
      `\n${r.highFailures.length} check(s) of high severity fail (${Severity.HIGH}+): exit code 1`,
    );
}
