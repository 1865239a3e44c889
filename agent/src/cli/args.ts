import { parseArgs } from 'node:util';
import type { AgentConfig } from '../config/index.js';
import { configPath, loadConfig } from '../config/load.js';
import { AgentError } from '../core/errors.js';

/** Bad command-line usage: exit code 2 with the usage text. */
export class UsageError extends AgentError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** Options every command takes. */
export const COMMON = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Spec = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

export function parse<O extends Spec>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Loads the config named by `--config`, `EDGE_AGENT_CONFIG` or the default path. */
export function configFrom(flag: unknown, env: NodeJS.ProcessEnv): AgentConfig {
  return loadConfig(configPath(typeof flag === 'string' ? flag : undefined, env));
}
