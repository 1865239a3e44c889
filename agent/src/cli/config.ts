import { ConfigError, configPath } from '../config/index.js';
import { ExitCode } from '../core/index.js';
import { configFrom, parse, UsageError } from './args.js';
import { type Io, println } from './io.js';

export const CONFIG_HELP = `Usage: edge-agent config check [--config FILE] [--json]

Validates the config file and prints the resolved configuration (defaults
filled in, paths made absolute; key files are shown as paths, never contents),
or every error as "path: message". Exit code 0 when valid, 2 when not.`;

export async function configCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help) {
    println(io.stdout, CONFIG_HELP);
    return ExitCode.Ok;
  }
  if (positionals[0] !== 'check') throw new UsageError(`config needs check\n\n${CONFIG_HELP}`);
  try {
    const cfg = configFrom(values.config, io.env);
    if (values.json)
      println(
        io.stdout,
        JSON.stringify({ valid: true, file: configPath(values.config, io.env), config: cfg }, null, 2),
      );
    else {
      println(io.stdout, `${configPath(values.config, io.env)}: valid`);
      println(io.stdout, JSON.stringify(cfg, null, 2));
    }
    return ExitCode.Ok;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    if (values.json)
      println(
        io.stdout,
        JSON.stringify(
          {
            valid: false,
            file: e.file,
            errors: e.issues,
            error: { code: e.code, message: e.message, file: e.file, issues: e.issues },
          },
          null,
          2,
        ),
      );
    else println(io.stderr, `edge-agent: ${e.message}`);
    return ExitCode.Failed;
  }
}
