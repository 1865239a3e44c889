import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../audit/index.js';
import { readOfflineStats } from '../buffer/index.js';
import {
  type AgentConfig,
  ConfigError,
  configPath,
  loadConfig,
  readJsonState,
  readSecretFile,
} from '../config/index.js';
import { ExitCode } from '../core/index.js';
import type { AgentStatus } from '../daemon/index.js';
import { DaemonUnreachableError, request } from '../diag/index.js';
import { BUILD_FLOOR_MS } from '../monitor/index.js';
import { TRUST_CORRUPT_MARKER } from '../trust/index.js';
import { acksRow } from './acks.js';
import { parse } from './args.js';
import { certificates, DAY, network, sensorsRow } from './doctor-checks.js';
import { softwareRow } from './doctor-software.js';
import { exitCodeOf, printFindings } from './findings.js';
import { type Io, println } from './io.js';

export const DOCTOR_HELP = `Usage: edge-agent doctor [--config FILE] [--json]

Checks everything the agent needs, each pass/warn/fail with the fix: config,
key permissions, certificate chain and expiry, CA pin, DNS, TCP, TLS handshake and
MQTT CONNECT to the broker (with timings), clock, disk space, SQLite integrity and
buffer age, the trust store, sensors, the gateway's own software against the
vulnerability feed in force (vulnerable packages, known-exploited and critical
CVEs, the feed's age: fails where the ETSI 5.3 check fails, warns when the feed is
missing, refused, expired or over 30 days old), acks, and (from the running
daemon) any capability that failed. Each check is pass, warn, fail, not-applicable
(not run) or not-readable; --json gives {result, checks: [{id, status, detail,
fix?, ms?}]} as the audit gives its checks. Exit code 0 when all pass, 1 with
warnings, 2 with failures (not-readable included).`;

export async function doctorCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) {
    println(io.stdout, DOCTOR_HELP);
    return ExitCode.Ok;
  }
  const rows: Finding[] = [];
  let cfg: AgentConfig;
  try {
    cfg = loadConfig(configPath(values.config, io.env));
    rows.push({ id: 'config', status: 'pass', detail: configPath(values.config, io.env) });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    rows.push({
      id: 'config',
      status: 'fail',
      detail: `${e.file}: ${e.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      fix: 'edit the config file (edge-agent config check lists every error)',
    });
    return report(rows, io, values.json === true);
  }
  for (const [name, file] of [
    ['signing-key', cfg.identity.signingKey],
    ['tls-key', cfg.mqtt.key],
  ] as const) {
    try {
      readSecretFile(file);
      rows.push({ id: name, status: 'pass', detail: `${file} is private (0600)` });
    } catch (e) {
      rows.push({
        id: name,
        status: 'fail',
        detail: (e as Error).message,
        fix: existsSync(file) ? `chmod 600 ${file}` : 'edge-agent enroll',
      });
    }
  }
  const now = Date.now();
  const floor = Math.max(
    BUILD_FLOOR_MS,
    readJsonState<{ floorMs: number }>(join(cfg.storage.dir, 'time-floor.json'))?.floorMs ?? 0,
  );
  const clockOk = now >= floor;
  rows.push(
    clockOk
      ? {
          id: 'clock',
          status: existsSync(join(cfg.monitor.root, 'run/systemd/timesync/synchronized')) ? 'pass' : 'warn',
          detail: `${new Date(now).toISOString()}${existsSync(join(cfg.monitor.root, 'run/systemd/timesync/synchronized')) ? ', synchronised' : ', not known to be synchronised'}`,
          fix: 'timedatectl set-ntp true',
        }
      : {
          id: 'clock',
          status: 'fail',
          detail: `${new Date(now).toISOString()} is before the time floor ${new Date(floor).toISOString()}`,
          fix: 'fix the time (NTP) — decisions that need the date are on hold',
        },
  );
  certificates(cfg, rows, now, clockOk);
  await network(cfg, rows);
  try {
    const s = statfsSync(existsSync(cfg.storage.dir) ? cfg.storage.dir : '/');
    const free = s.bavail * s.bsize;
    const mb = Math.round(free / 1e6);
    rows.push(
      free < cfg.storage.minFreeBytes / 2
        ? { id: 'disk', status: 'fail', detail: `${mb} MB free`, fix: 'free space on the data filesystem' }
        : free < cfg.storage.minFreeBytes
          ? {
              id: 'disk',
              status: 'warn',
              detail: `${mb} MB free, below storage.minFreeBytes: the outbox is evicting`,
              fix: 'free space on the data filesystem',
            }
          : { id: 'disk', status: 'pass', detail: `${mb} MB free` },
    );
  } catch (e) {
    rows.push({ id: 'disk', status: 'fail', detail: (e as Error).message });
  }
  const db = join(cfg.storage.dir, 'outbox.db');
  if (!existsSync(db)) rows.push({ id: 'sqlite', status: 'not-applicable', detail: 'no outbox yet' });
  else {
    try {
      const Database = (await import('better-sqlite3')).default;
      const d = new Database(db, { readonly: true, fileMustExist: true });
      const r = String(d.pragma('quick_check', { simple: true }));
      d.close();
      rows.push(
        r === 'ok'
          ? { id: 'sqlite', status: 'pass', detail: 'quick_check ok' }
          : {
              id: 'sqlite',
              status: 'fail',
              detail: r,
              fix: 'restart the agent: it quarantines a corrupt outbox and starts a new epoch',
            },
      );
      const st = readOfflineStats(db);
      const oldest = Math.min(
        ...(st?.streams ?? []).map((x) => x.pending.oldestMs ?? Number.POSITIVE_INFINITY),
      );
      const age = Number.isFinite(oldest) ? now - oldest : 0;
      rows.push(
        age > DAY
          ? {
              id: 'buffer-age',
              status: 'fail',
              detail: `oldest undelivered row is ${Math.round(age / 3_600_000)} h old`,
              fix: 'restore the uplink (see tcp/tls/mqtt above)',
            }
          : age > 3_600_000
            ? {
                id: 'buffer-age',
                status: 'warn',
                detail: `oldest undelivered row is ${Math.round(age / 60_000)} min old`,
              }
            : {
                id: 'buffer-age',
                status: 'pass',
                detail: age ? `oldest undelivered row ${Math.round(age / 1000)} s old` : 'nothing waiting',
              },
      );
    } catch (e) {
      rows.push({
        id: 'sqlite',
        status: 'fail',
        detail: (e as Error).message,
        fix: 'restart the agent: it quarantines a corrupt outbox',
      });
    }
  }
  rows.push(trustRow(cfg), ...(await capabilityRows(cfg)));
  rows.push(sensorsRow(cfg));
  rows.push(softwareRow(cfg));
  rows.push(acksRow(cfg));
  return report(rows, io, values.json === true);
}

/** The trust store: sound, or quarantined and refusing every signed document. */
function trustRow(cfg: AgentConfig): Finding {
  const marker = join(cfg.storage.dir, TRUST_CORRUPT_MARKER);
  if (!existsSync(marker)) return { id: 'trust', status: 'pass', detail: 'trust store readable' };
  return {
    id: 'trust',
    status: 'fail',
    detail: `trust.json was corrupt (kept at ${readFileSync(marker, 'utf8').trim()}): every signed document is refused`,
    fix: `restore trust.json from a backup and remove ${marker}; or remove ${marker} alone to re-pin to trust.rootKey (version floors start again)`,
  };
}

/** The daemon's optional capabilities that failed (telemetry carries on without them). */
async function capabilityRows(cfg: AgentConfig): Promise<Finding[]> {
  let status: AgentStatus;
  try {
    status = (await request(cfg.sockets.agent, 'status')) as AgentStatus;
  } catch (e) {
    if (!(e instanceof DaemonUnreachableError)) throw e;
    return [{ id: 'capabilities', status: 'not-applicable', detail: 'the daemon is not running' }];
  }
  const all = status.capabilities ?? [];
  const failed = all.filter((c) => c.state === 'failed');
  if (failed.length === 0) return [{ id: 'capabilities', status: 'pass', detail: `${all.length} running` }];
  return failed.map((c) => ({
    id: `capability ${c.name}`,
    status: 'fail',
    detail: `${c.error?.code ?? '?'}: ${c.error?.message ?? ''}${c.retryAt ? ` (next try ${c.retryAt})` : ''}`,
    fix: `edge-agent logs shows why; the agent retries it by itself and raised agent.capability_failed`,
  }));
}

function report(rows: Finding[], io: Io, json: boolean): number {
  const code = exitCodeOf(rows);
  if (json)
    println(io.stdout, JSON.stringify({ result: ['pass', 'warn', 'fail'][code], checks: rows }, null, 2));
  else printFindings(io, rows);
  return code;
}
