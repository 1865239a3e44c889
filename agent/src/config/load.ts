import { closeSync, constants, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { validateCronExpression } from 'cron';
import { type FieldIssue, ValidationError } from '../core/errors.js';
import { lazyPackage } from '../core/lazy.js';
import { configSchema, DEFAULT_SCHEDULES } from './schema.js';
import type { AgentConfig } from './types.js';
import { validate } from './validate.js';

/**
 * cron (with luxon) costs every command 30 ms at start, most of the 100 ms `status` may take
 * (#12); the defaults are valid (a unit test says so), so only a schedule the file sets loads it.
 */
const cronPackage = lazyPackage<{ validateCronExpression: typeof validateCronExpression }>('cron');
const DEFAULT_CRON: ReadonlySet<string> = new Set(Object.values(DEFAULT_SCHEDULES));

/** Where the config file is looked for when neither `--config` nor the environment says. */
export const DEFAULT_CONFIG_PATH = '/etc/edge-agent/config.json';

/** The config file could not be read or is invalid; `issues` name each field. */
export class ConfigError extends ValidationError {
  override readonly code = 'CONFIG_INVALID';
  readonly file: string;
  constructor(file: string, issues: FieldIssue[]) {
    super(issues, file);
    this.file = file;
  }
}

/** `--config`, then `EDGE_AGENT_CONFIG`, then the default path. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.EDGE_AGENT_CONFIG ?? DEFAULT_CONFIG_PATH;
}

/** Fills the defaults that live in the data folder and makes every path absolute. */
export function resolvePaths(cfg: AgentConfig, baseDir: string): AgentConfig {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const dir = abs(cfg.storage.dir);
  return {
    ...cfg,
    storage: { ...cfg.storage, dir },
    mqtt: { ...cfg.mqtt, ca: abs(cfg.mqtt.ca), cert: abs(cfg.mqtt.cert), key: abs(cfg.mqtt.key) },
    identity: {
      ...cfg.identity,
      signingKey: cfg.identity.signingKey
        ? abs(cfg.identity.signingKey)
        : join(dir, 'identity', 'signing.key'),
      csr: cfg.identity.csr ? abs(cfg.identity.csr) : join(dir, 'identity', 'tls.csr'),
    },
    log: { ...cfg.log, file: cfg.log.file ? abs(cfg.log.file) : undefined },
    sensors: {
      ...cfg.sensors,
      profilesBundle: cfg.sensors.profilesBundle
        ? abs(cfg.sensors.profilesBundle)
        : join(dir, 'profiles-bundle.json'),
    },
    software: {
      ...cfg.software,
      feed: cfg.software.feed ? abs(cfg.software.feed) : join(dir, 'vulnerabilities-feed.json'),
    },
    integrity: {
      ...cfg.integrity,
      baselineFile: cfg.integrity.baselineFile
        ? abs(cfg.integrity.baselineFile)
        : join(dir, 'integrity-baseline.json'),
    },
    sockets: {
      agent: cfg.sockets.agent ? abs(cfg.sockets.agent) : join(dir, 'agent.sock'),
      admin: cfg.sockets.admin ? abs(cfg.sockets.admin) : join(dir, 'admin.sock'),
    },
  };
}

/** Rules that span fields, which the schema cannot say on its own. */
export function crossCheck(cfg: AgentConfig): FieldIssue[] {
  const issues: FieldIssue[] = [];
  cfg.privacy.rules.forEach((r, i) => {
    const p = `privacy.rules[${i}]`;
    if (r.action === 'seal' && !cfg.privacy.platformPublicKey)
      issues.push({ path: `${p}.action`, message: 'seal needs privacy.platformPublicKey' });
    if (r.target === 'reading' && r.action !== 'drop')
      issues.push({ path: `${p}.target`, message: 'only drop applies to a whole reading' });
    if (r.target === 'ts' && (r.action !== 'generalise' || r.truncateS === undefined)) {
      issues.push({ path: `${p}.target`, message: 'ts can only be generalised, with truncateS' });
    }
    if (r.action === 'generalise' && r.target !== 'ts' && r.step === undefined)
      issues.push({ path: `${p}.step`, message: 'generalise needs a step' });
    // A step of 0 would round nothing: the raw value would be sealed as if generalised.
    if (r.step !== undefined && !(r.step > 0))
      issues.push({ path: `${p}.step`, message: `must be greater than 0, got ${r.step}` });
    if (r.sensors.length === 0)
      issues.push({ path: `${p}.sensors`, message: 'must name at least one sensor (or "*")' });
  });
  for (const [path, expr] of [
    ['health.schedule', cfg.health.schedule],
    ['integrity.schedule', cfg.integrity.schedule],
    ['audit.schedule', cfg.audit.schedule],
    ['sensors.schedule', cfg.sensors.schedule],
    ['software.schedule', cfg.software.schedule],
  ] as const) {
    if (DEFAULT_CRON.has(expr)) continue;
    const v = cronPackage().validateCronExpression(expr);
    if (!v.valid)
      issues.push({ path, message: `is not a cron expression: ${v.error?.message ?? 'invalid'}` });
  }
  if (cfg.sync.backoffMinMs > cfg.sync.backoffMaxMs)
    issues.push({ path: 'sync.backoffMinMs', message: 'must not exceed sync.backoffMaxMs' });
  // What `run` would refuse, `config check` refuses too.
  if (cfg.mqtt.url.startsWith('mqtt://') && !cfg.mqtt.insecurePlaintextForDevelopment)
    issues.push({
      path: 'mqtt.url',
      message:
        'plaintext MQTT is refused: use mqtts:// (or set mqtt.insecurePlaintextForDevelopment on a bench)',
    });
  for (const [path, value] of [
    ['device.id', cfg.device.id],
    ['mqtt.url', cfg.mqtt.url],
  ] as const) {
    if (value.includes(PLACEHOLDER))
      issues.push({
        path,
        message: `${PLACEHOLDER} is the installer's placeholder: set this gateway's own value`,
      });
  }
  return issues;
}

/** What scripts/install.sh writes into its config template where only the technician knows the value. */
export const PLACEHOLDER = 'CHANGE-ME';

/** Validates an already-parsed config object; throws ConfigError listing every issue. */
export function parseConfig(value: unknown, file: string): AgentConfig {
  const r = validate(configSchema, value);
  if (!r.ok) throw new ConfigError(file, r.issues);
  const more = crossCheck(r.value);
  if (more.length > 0) throw new ConfigError(file, more);
  return resolvePaths(r.value, dirname(resolve(file)));
}

const mode4 = (m: number): string => (m & 0o7777).toString(8).padStart(4, '0');

/**
 * Reads the config file, refusing one that anyone could have written: a
 * world-writable file, or a file in a world-writable folder (where anyone can
 * replace it). The file is opened once and judged by that handle.
 */
export function readConfigText(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file (pass --config or set EDGE_AGENT_CONFIG)'
        : code === 'EACCES'
          ? 'permission denied'
          : String(e);
    throw new ConfigError(file, [{ path: '(file)', message: why }]);
  }
  try {
    const st = fstatSync(fd);
    if ((st.mode & 0o002) !== 0)
      throw new ConfigError(file, [
        {
          path: '(file)',
          message: `is writable by anyone (mode ${mode4(st.mode)}); fix: chmod o-w ${file}`,
        },
      ]);
    const folder = dirname(resolve(file));
    const dirMode = statSync(folder).mode;
    if ((dirMode & 0o002) !== 0)
      throw new ConfigError(file, [
        {
          path: '(folder)',
          message: `${folder} is writable by anyone (mode ${mode4(dirMode)}), so anyone can replace the config; fix: chmod o-w ${folder} or move the config`,
        },
      ]);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** The config file's text as JSON, or a ConfigError naming the parse problem. */
export function parseConfigText(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, [{ path: '(file)', message: `not valid JSON: ${(e as Error).message}` }]);
  }
}

/** Reads, parses and validates the config file. */
export function loadConfig(file: string): AgentConfig {
  return parseConfig(parseConfigText(file, readConfigText(file)), file);
}

/** The config as `config check` shows it: key file paths are kept, nothing secret is inside. */
