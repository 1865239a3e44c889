import type { PrivacyRule } from '../config/index.js';
import { ExitCode } from '../core/index.js';
import { DaemonUnreachableError, request } from '../diag/index.js';
import { configFrom, parse, UsageError } from './args.js';
import { type Io, println, table } from './io.js';

export const PRIVACY_HELP = `Usage: edge-agent privacy report [--config FILE] [--json]

Shows the privacy rules of the config (what is dropped, pseudonymised,
generalised or sealed, for which sensors) and, when the daemon runs, which rules
apply to each sensor it has seen since it started.`;

interface Report {
  rules: PrivacyRule[];
  sensors: { sensor: string; rules: number[] }[] | null;
  dropped?: number;
}

export async function privacyCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help) {
    println(io.stdout, PRIVACY_HELP);
    return ExitCode.Ok;
  }
  if (positionals[0] !== 'report') throw new UsageError(`privacy needs report\n\n${PRIVACY_HELP}`);
  const cfg = configFrom(values.config, io.env);
  let report: Report = { rules: cfg.privacy.rules, sensors: null };
  try {
    report = (await request(cfg.sockets.agent, 'privacy-report')) as Report;
  } catch (e) {
    if (!(e instanceof DaemonUnreachableError)) throw e;
  }
  if (values.json) {
    println(io.stdout, JSON.stringify(report, null, 2));
    return ExitCode.Ok;
  }
  if (report.rules.length === 0) println(io.stdout, 'no privacy rules: readings leave as they are ingested');
  else {
    const what = (r: PrivacyRule) =>
      r.step !== undefined
        ? `${r.action} (step ${r.step})`
        : r.truncateS !== undefined
          ? `${r.action} (${r.truncateS} s)`
          : r.action;
    println(
      io.stdout,
      table(
        ['#', 'sensors', 'target', 'action'],
        report.rules.map((r, i) => [String(i), r.sensors.join(', '), r.target, what(r)]),
      ),
    );
  }
  if (report.sensors === null)
    println(io.stdout, '\n(the daemon is not running: sensors seen are not known)');
  else {
    println(io.stdout, `\nsensors seen since start (${report.dropped ?? 0} readings dropped whole):`);
    println(
      io.stdout,
      table(
        ['sensor', 'rules'],
        report.sensors.map((s) => [s.sensor, s.rules.length ? s.rules.join(', ') : 'none: sent as ingested']),
      ),
    );
  }
  return ExitCode.Ok;
}
