import type { AgentConfig, BatchPolicy, PrivacyRule } from './types.js';
import { arr, bool, int, num, obj, oneOf, optional, type Schema, str } from './validate.js';

/** Device ids can never carry MQTT wildcards or topic separators. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MiB = 1024 * 1024;

const path = () => str({ min: 1, max: 4096 });
const policy = (maxItems: number, maxDelayMs: number): Schema<BatchPolicy> =>
  obj<BatchPolicy>(
    {
      maxItems: int({ min: 1, max: 10_000, default: maxItems }),
      maxDelayMs: int({ min: 0, max: 3_600_000, default: maxDelayMs }),
    },
    { remote: 'live' },
  );

const CRON = /^\S+( \S+){5}$/;
const CRON_HINT = 'must be a cron expression with six fields (seconds first)';

/** Each schedule's default: constants a unit test checks with cron, so a config keeping them needs no cron at load. */
export const DEFAULT_SCHEDULES = {
  health: '0 * * * * *',
  sensors: '0 */5 * * * *',
  software: '0 15 * * * *',
  integrity: '0 0 * * * *',
  audit: '0 30 3 * * *',
} as const;

/** What the integrity baseline covers unless the config says otherwise. */
export const DEFAULT_INTEGRITY_PATHS = [
  '/etc/ssh/sshd_config',
  '/etc/ssh/sshd_config.d',
  '/etc/passwd',
  '/etc/shadow',
  '/etc/group',
  '/etc/sudoers',
  '/etc/sudoers.d',
  '/etc/edge-agent',
  '/etc/systemd/system/edge-agent.service',
  '/boot/config.txt',
  '/boot/cmdline.txt',
  '/boot/firmware',
  '/usr/lib/edge-agent',
];

const ruleSchema: Schema<PrivacyRule> = obj<PrivacyRule>({
  sensors: arr(
    str({
      pattern: /^[A-Za-z0-9*][A-Za-z0-9._:@/*-]{0,127}$/,
      hint: 'must be a sensor id, * wildcards allowed',
    }),
    { max: 256 },
  ),
  target: str({
    pattern: /^(value|ts|reading|label:[^\s]{1,64})$/,
    hint: 'must be value, ts, reading or label:<name>',
  }),
  action: oneOf(['drop', 'pseudonymise', 'generalise', 'seal'] as const),
  step: optional(num({ min: 0 })),
  truncateS: optional(int({ min: 1, max: 31_536_000 })),
});

/**
 * The config file's schema. Fields marked `remote` may be set by a signed OTA
 * config ('live' applies at once, 'restart' on the next start). Defaults that
 * depend on `storage.dir` are filled in by `resolvePaths`.
 */
export const configSchema: Schema<AgentConfig> = obj<AgentConfig>({
  device: obj({
    id: str({
      pattern: DEVICE_ID_PATTERN,
      hint: 'must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ (no /, + or #)',
    }),
    groups: arr(str({ pattern: DEVICE_ID_PATTERN, hint: 'must be a plain name' }), { default: [], max: 64 }),
  }),
  trust: obj({
    rootKey: optional(
      str({ pattern: /^[A-Za-z0-9+/]{43}=$/, hint: 'must be base64 of a 32-byte Ed25519 public key' }),
    ),
    maxDocumentBytes: int({ min: 1024, max: 1024 * 1024, default: 65_536 }),
    rollbackAfterS: int({ min: 5, max: 86_400, default: 300, remote: 'live' }),
  }),
  storage: obj({
    dir: path(),
    maxBytes: int({ min: 1 * MiB, default: 256 * MiB, remote: 'live' }),
    minFreeBytes: int({ min: 0, default: 64 * MiB, remote: 'live' }),
  }),
  mqtt: obj({
    url: str({
      pattern: /^mqtts?:\/\/[^\s/]+(:\d+)?\/?$/,
      hint: 'must look like mqtts://host:port',
      remote: 'live',
    }),
    ca: path(),
    cert: path(),
    key: path(),
    topicPrefix: str({
      pattern: /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/,
      hint: 'must be topic levels without wildcards',
      default: 'edge/v1',
    }),
    protocolVersion: oneOf([4, 5] as const, { default: 5, remote: 'live' }),
    servername: optional(str({ min: 1, max: 253 })),
    keepaliveS: int({ min: 5, max: 3600, default: 30, remote: 'live' }),
    insecurePlaintextForDevelopment: bool({ default: false }),
  }),
  sync: obj({
    ackMode: oneOf(['collector', 'broker'] as const, { default: 'collector', remote: 'live' }),
    ackTimeoutMs: int({ min: 100, max: 3_600_000, default: 60_000, remote: 'live' }),
    inflight: int({ min: 1, max: 65_535, default: 100, remote: 'live' }),
    inflightBytes: int({ min: 1024, max: 256 * 1024 * 1024, default: 1024 * 1024, remote: 'live' }),
    publishTimeoutMs: int({ min: 100, max: 600_000, default: 30_000, remote: 'live' }),
    connectTimeoutMs: int({ min: 100, max: 600_000, default: 15_000, remote: 'live' }),
    backoffMinMs: int({ min: 10, max: 600_000, default: 1000, remote: 'live' }),
    backoffMaxMs: int({ min: 10, max: 3_600_000, default: 60_000, remote: 'live' }),
    rateLimit: int({ min: 0, max: 100_000, default: 0, remote: 'live' }),
  }),
  identity: obj({
    signingKey: str({ default: '' }),
    csr: str({ default: '' }),
    renewAt: num({ min: 0.1, max: 0.99, default: 0.667, remote: 'live' }),
    checkIntervalS: int({ min: 1, max: 86_400, default: 3600, remote: 'live' }),
  }),
  batching: obj({
    telemetry: policy(100, 1000),
    events: policy(50, 200),
    reports: policy(1, 0),
  }),
  sockets: obj({ agent: str({ default: '' }), admin: str({ default: '' }) }),
  health: obj({
    enabled: bool({ default: true, remote: 'live' }),
    schedule: str({ pattern: CRON, hint: CRON_HINT, default: DEFAULT_SCHEDULES.health, remote: 'live' }),
  }),
  monitor: obj({
    auth: obj({
      source: oneOf(['journal', 'file', 'off'] as const, { default: 'journal', remote: 'live' }),
      file: str({ default: '/var/log/auth.log', min: 1 }),
      threshold: int({ min: 1, max: 10_000, default: 5, remote: 'live' }),
      windowS: int({ min: 1, max: 86_400, default: 60, remote: 'live' }),
      technicians: arr(str({ min: 1, max: 64 }), { default: [], max: 64, remote: 'live' }),
    }),
    listeners: obj({
      enabled: bool({ default: true, remote: 'live' }),
      allow: arr(str({ pattern: /^(tcp|udp)\/\d{1,5}$/, hint: 'must look like tcp/22 or udp/123' }), {
        default: ['tcp/22'],
        max: 256,
        remote: 'live',
      }),
      intervalS: int({ min: 1, max: 86_400, default: 30, remote: 'live' }),
    }),
    clock: obj({
      maxForwardJumpS: int({ min: 1, max: 31_536_000, default: 300, remote: 'live' }),
      intervalS: int({ min: 1, max: 3600, default: 10 }),
    }),
    door: optional(obj({ path: str({ min: 1 }), openValue: str({ default: '1' }) })),
    aggregateS: int({ min: 0, max: 86_400, default: 60, remote: 'live' }),
    root: str({ default: '/', min: 1 }),
  }),
  sensors: obj({
    enabled: bool({ default: true, remote: 'live' }),
    schedule: str({ pattern: CRON, hint: CRON_HINT, default: DEFAULT_SCHEDULES.sensors, remote: 'live' }),
    declared: arr(
      obj({
        id: str({ pattern: /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/, hint: 'must be a sensor id' }),
        model: str({ pattern: /^[a-z0-9][a-z0-9-]{1,63}$/, hint: 'must be a profile id' }),
        location: optional(str({ min: 1, max: 64 })),
      }),
      { default: [], max: 256, remote: 'live' },
    ),
    profilesBundle: str({ default: '' }),
  }),
  software: obj({
    enabled: bool({ default: true, remote: 'live' }),
    schedule: str({ pattern: CRON, hint: CRON_HINT, default: DEFAULT_SCHEDULES.software, remote: 'live' }),
    feed: str({ default: '' }),
  }),
  integrity: obj({
    paths: arr(str({ pattern: /^\/[^\0]*$/, hint: 'must be an absolute path on the gateway', max: 4096 }), {
      default: DEFAULT_INTEGRITY_PATHS,
      max: 256,
      remote: 'live',
    }),
    schedule: str({ pattern: CRON, hint: CRON_HINT, default: DEFAULT_SCHEDULES.integrity, remote: 'live' }),
    baselineFile: str({ default: '' }),
  }),
  audit: obj({
    enabled: bool({ default: true, remote: 'live' }),
    schedule: str({ pattern: CRON, hint: CRON_HINT, default: DEFAULT_SCHEDULES.audit, remote: 'live' }),
    probeBroker: bool({ default: true, remote: 'live' }),
    plaintextPorts: arr(int({ min: 1, max: 65_535 }), { default: [1883], max: 16, remote: 'live' }),
  }),
  privacy: obj({
    rules: arr(ruleSchema, { default: [], max: 256, remote: 'live' }),
    pseudonymRotation: oneOf(['hourly', 'daily', 'weekly'] as const, { default: 'daily', remote: 'live' }),
    platformPublicKey: optional(
      str({ pattern: /^[A-Za-z0-9+/]{43}=$/, hint: 'must be base64 of a 32-byte X25519 public key' }),
    ),
    retentionHours: obj({
      telemetry: int({ min: 0, max: 87_600, default: 0, remote: 'live' }),
      events: int({ min: 0, max: 87_600, default: 0, remote: 'live' }),
      reports: int({ min: 0, max: 87_600, default: 0, remote: 'live' }),
    }),
  }),
  ingest: obj({ maxLineBytes: int({ min: 256, max: 1 * MiB, default: 64 * 1024 }) }),
  log: obj({
    level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
      default: 'info',
      remote: 'live',
    }),
    file: optional(str({ min: 1 })),
  }),
});
