import type { AgentConfig, BatchPolicy } from './types.js';
import { arr, bool, int, obj, oneOf, optional, type Schema, str } from './validate.js';

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
    publishTimeoutMs: int({ min: 100, max: 600_000, default: 30_000, remote: 'live' }),
    connectTimeoutMs: int({ min: 100, max: 600_000, default: 15_000, remote: 'live' }),
    backoffMinMs: int({ min: 10, max: 600_000, default: 1000, remote: 'live' }),
    backoffMaxMs: int({ min: 10, max: 3_600_000, default: 60_000, remote: 'live' }),
    rateLimit: int({ min: 0, max: 100_000, default: 0, remote: 'live' }),
  }),
  identity: obj({ signingKey: str({ default: '' }), csr: str({ default: '' }) }),
  batching: obj({
    telemetry: policy(100, 1000),
    events: policy(50, 200),
    reports: policy(1, 0),
  }),
  sockets: obj({ agent: str({ default: '' }), admin: str({ default: '' }) }),
  health: obj({
    enabled: bool({ default: true, remote: 'live' }),
    schedule: str({
      pattern: /^\S+( \S+){5}$/,
      hint: 'must be a cron expression with six fields (seconds first)',
      default: '0 * * * * *',
      remote: 'live',
    }),
  }),
  ingest: obj({ maxLineBytes: int({ min: 256, max: 1 * MiB, default: 64 * 1024 }) }),
  log: obj({
    level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
      default: 'info',
      remote: 'live',
    }),
  }),
});
