import { createPrivateKey, X509Certificate } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { isIP, connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
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
import { BUILD_FLOOR_MS } from '../monitor/index.js';
import { assess, discover, profilesFrom } from '../sensors/index.js';
import { classify } from '../sync/index.js';
import { TrustStore } from '../trust/index.js';
import { acksRow } from './acks.js';
import { parse } from './args.js';
import { cliAudience } from './inventory.js';
import { type Io, println, table } from './io.js';

export const DOCTOR_HELP = `Usage: edge-agent doctor [--config FILE] [--json]

Checks everything the agent needs, each pass/warn/fail with the fix: config,
key permissions, certificate chain and expiry, CA pin, DNS, TCP, TLS handshake and
MQTT CONNECT to the broker (with timings), clock, disk space, SQLite integrity and
buffer age. Exit code 0 when all pass, 1 with warnings, 2 with failures.`;

export type Result = 'pass' | 'warn' | 'fail' | 'skip';
export interface Row {
  check: string;
  result: Result;
  ms?: number;
  detail: string;
  fix?: string;
}

const DAY = 86_400_000;

function timed<T>(f: () => Promise<T>): Promise<{ v: T; ms: number }> {
  const t = performance.now();
  return f().then((v) => ({ v, ms: Math.round(performance.now() - t) }));
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(
        () => reject(Object.assign(new Error(`${what}: no answer within ${ms} ms`), { code: 'TIMEOUT' })),
        ms,
      ).unref(),
    ),
  ]);
}

/** DNS, TCP, TLS handshake and MQTT CONNECT to the configured broker, with timings (shared with `enroll`). */
export async function network(cfg: AgentConfig, rows: Row[]): Promise<void> {
  const u = new URL(cfg.mqtt.url);
  const host = u.hostname;
  const port = Number(u.port || (u.protocol === 'mqtts:' ? 8883 : 1883));
  if (isIP(host)) rows.push({ check: 'dns', result: 'skip', detail: `${host} is an address` });
  else {
    try {
      const r = await timed(() => withTimeout(lookup(host), 3000, 'DNS'));
      rows.push({ check: 'dns', result: 'pass', ms: r.ms, detail: `${host} → ${r.v.address}` });
    } catch (e) {
      rows.push({
        check: 'dns',
        result: 'fail',
        detail: `${host}: ${(e as Error).message}`,
        fix: 'check /etc/resolv.conf and the uplink',
      });
      return;
    }
  }
  try {
    const r = await timed(
      () =>
        new Promise<void>((resolve, reject) => {
          const s = netConnect({ host, port });
          s.once('connect', () => {
            s.destroy();
            resolve();
          });
          s.once('error', reject);
          s.setTimeout(3000, () => {
            s.destroy();
            reject(Object.assign(new Error('no answer within 3000 ms'), { code: 'ETIMEDOUT' }));
          });
        }),
    );
    rows.push({ check: 'tcp', result: 'pass', ms: r.ms, detail: `${host}:${port} accepts connections` });
  } catch (e) {
    const c = classify(e, `${host}:${port}`);
    rows.push({
      check: 'tcp',
      result: 'fail',
      detail: `${c.code}: ${c.message}`,
      fix: 'check the broker address, the uplink and any firewall on the way',
    });
    return;
  }
  if (u.protocol !== 'mqtts:') {
    rows.push({
      check: 'tls',
      result: 'fail',
      detail: 'the URL is not mqtts://',
      fix: 'use mqtts:// with mqtt.ca, mqtt.cert and mqtt.key',
    });
    return;
  }
  let ca: string;
  let cert: string;
  let key: string;
  try {
    ca = readFileSync(cfg.mqtt.ca, 'utf8');
    cert = readFileSync(cfg.mqtt.cert, 'utf8');
    key = readSecretFile(cfg.mqtt.key);
  } catch (e) {
    rows.push({ check: 'tls', result: 'skip', detail: `TLS files not usable: ${(e as Error).message}` });
    return;
  }
  const servername = cfg.mqtt.servername ?? (isIP(host) ? undefined : host);
  try {
    const r = await timed(
      () =>
        new Promise<string>((resolve, reject) => {
          const s = tlsConnect({
            host,
            port,
            ca,
            cert,
            key,
            servername,
            minVersion: 'TLSv1.2',
            rejectUnauthorized: true,
          });
          s.once('secureConnect', () => {
            const v = s.getProtocol() ?? '?';
            s.destroy();
            resolve(v);
          });
          s.once('error', reject);
          s.setTimeout(5000, () => {
            s.destroy();
            reject(Object.assign(new Error('handshake not done within 5000 ms'), { code: 'ETIMEDOUT' }));
          });
        }),
    );
    rows.push({
      check: 'tls',
      result: 'pass',
      ms: r.ms,
      detail: `${r.v} handshake, server verified against the pinned CA`,
    });
  } catch (e) {
    const c = classify(e, `${host}:${port}`);
    rows.push({
      check: 'tls',
      result: 'fail',
      detail: `${c.code}: ${c.message}`,
      fix: 'see the certificate checks above; the broker must present a certificate from the pinned CA naming this host',
    });
    return;
  }
  const mqtt = (await import('mqtt')).default;
  try {
    const r = await timed(
      () =>
        new Promise<void>((resolve, reject) => {
          const c = mqtt.connect(cfg.mqtt.url, {
            protocolVersion: cfg.mqtt.protocolVersion,
            clientId: `${cfg.device.id}-doctor`,
            reconnectPeriod: 0,
            connectTimeout: 5000,
            ca,
            cert,
            key,
            servername,
            rejectUnauthorized: true,
          });
          c.once('connect', () => {
            c.end(true);
            resolve();
          });
          c.once('error', (e) => {
            c.end(true);
            reject(e);
          });
        }),
    );
    rows.push({
      check: 'mqtt',
      result: 'pass',
      ms: r.ms,
      detail: `CONNECT accepted (MQTT ${cfg.mqtt.protocolVersion === 5 ? '5' : '3.1.1'})`,
    });
  } catch (e) {
    const c = classify(e, `${host}:${port}`);
    rows.push({
      check: 'mqtt',
      result: 'fail',
      detail: `${c.code}: ${c.message}`,
      fix: 'the broker refused this client: check its certificate (CN = device id) and the broker ACL',
    });
  }
}

/** The pinned CA and the device certificate: chain, key match, name, validity (shared with `enroll`). */
export function certificates(cfg: AgentConfig, rows: Row[], now: number, clockOk: boolean): void {
  let ca: X509Certificate;
  try {
    ca = new X509Certificate(readFileSync(cfg.mqtt.ca));
    rows.push(
      ca.ca
        ? { check: 'ca-pin', result: 'pass', detail: `pinned CA ${ca.subject.replace(/\n/g, ', ')}` }
        : {
            check: 'ca-pin',
            result: 'fail',
            detail: `${cfg.mqtt.ca} is not a CA certificate`,
            fix: 'put the platform CA (not a leaf certificate) at mqtt.ca',
          },
    );
  } catch (e) {
    rows.push({
      check: 'ca-pin',
      result: 'fail',
      detail: `${cfg.mqtt.ca}: ${(e as Error).message}`,
      fix: 'install the platform CA at mqtt.ca',
    });
    return;
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(cfg.mqtt.cert));
  } catch {
    rows.push({
      check: 'certificate',
      result: 'fail',
      detail: `no certificate at ${cfg.mqtt.cert}`,
      fix: 'run `edge-agent enroll`, have the CSR signed, put the certificate at mqtt.cert',
    });
    return;
  }
  const problems: string[] = [];
  if (!cert.verify(ca.publicKey) || cert.issuer !== ca.subject)
    problems.push('does not chain to the pinned CA');
  if (cert.subject !== `CN=${cfg.device.id}`) problems.push(`names ${cert.subject}, not CN=${cfg.device.id}`);
  try {
    if (!cert.checkPrivateKey(createPrivateKey(readSecretFile(cfg.mqtt.key))))
      problems.push('does not match the TLS key');
  } catch (e) {
    problems.push(`TLS key: ${(e as Error).message}`);
  }
  if (problems.length) {
    rows.push({
      check: 'certificate',
      result: 'fail',
      detail: problems.join('; '),
      fix: 'enroll again: a new CSR, signed by the platform CA',
    });
    return;
  }
  const to = Date.parse(cert.validTo);
  if (!clockOk)
    rows.push({
      check: 'certificate',
      result: 'warn',
      detail: `valid until ${new Date(to).toISOString()}; expiry not judged while the clock is implausible`,
    });
  else if (to < now)
    rows.push({
      check: 'certificate',
      result: 'fail',
      detail: `expired ${new Date(to).toISOString()}`,
      fix: 'renew the certificate',
    });
  else if (to - now < 30 * DAY)
    rows.push({
      check: 'certificate',
      result: 'warn',
      detail: `expires in ${Math.floor((to - now) / DAY)} days`,
      fix: 'renew the certificate',
    });
  else
    rows.push({
      check: 'certificate',
      result: 'pass',
      detail: `chains to the CA, matches the key, names ${cfg.device.id}, valid ${Math.floor((to - now) / DAY)} more days`,
    });
}

export async function doctorCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) {
    println(io.stdout, DOCTOR_HELP);
    return ExitCode.Ok;
  }
  const rows: Row[] = [];
  let cfg: AgentConfig;
  try {
    cfg = loadConfig(configPath(values.config, io.env));
    rows.push({ check: 'config', result: 'pass', detail: configPath(values.config, io.env) });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    rows.push({
      check: 'config',
      result: 'fail',
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
      rows.push({ check: name, result: 'pass', detail: `${file} is private (0600)` });
    } catch (e) {
      rows.push({
        check: name,
        result: 'fail',
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
          check: 'clock',
          result: existsSync(join(cfg.monitor.root, 'run/systemd/timesync/synchronized')) ? 'pass' : 'warn',
          detail: `${new Date(now).toISOString()}${existsSync(join(cfg.monitor.root, 'run/systemd/timesync/synchronized')) ? ', synchronised' : ', not known to be synchronised'}`,
          fix: 'timedatectl set-ntp true',
        }
      : {
          check: 'clock',
          result: 'fail',
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
        ? { check: 'disk', result: 'fail', detail: `${mb} MB free`, fix: 'free space on the data filesystem' }
        : free < cfg.storage.minFreeBytes
          ? {
              check: 'disk',
              result: 'warn',
              detail: `${mb} MB free, below storage.minFreeBytes: the outbox is evicting`,
              fix: 'free space on the data filesystem',
            }
          : { check: 'disk', result: 'pass', detail: `${mb} MB free` },
    );
  } catch (e) {
    rows.push({ check: 'disk', result: 'fail', detail: (e as Error).message });
  }
  const db = join(cfg.storage.dir, 'outbox.db');
  if (!existsSync(db)) rows.push({ check: 'sqlite', result: 'skip', detail: 'no outbox yet' });
  else {
    try {
      const Database = (await import('better-sqlite3')).default;
      const d = new Database(db, { readonly: true, fileMustExist: true });
      const r = String(d.pragma('quick_check', { simple: true }));
      d.close();
      rows.push(
        r === 'ok'
          ? { check: 'sqlite', result: 'pass', detail: 'quick_check ok' }
          : {
              check: 'sqlite',
              result: 'fail',
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
              check: 'buffer-age',
              result: 'fail',
              detail: `oldest undelivered row is ${Math.round(age / 3_600_000)} h old`,
              fix: 'restore the uplink (see tcp/tls/mqtt above)',
            }
          : age > 3_600_000
            ? {
                check: 'buffer-age',
                result: 'warn',
                detail: `oldest undelivered row is ${Math.round(age / 60_000)} min old`,
              }
            : {
                check: 'buffer-age',
                result: 'pass',
                detail: age ? `oldest undelivered row ${Math.round(age / 1000)} s old` : 'nothing waiting',
              },
      );
    } catch (e) {
      rows.push({
        check: 'sqlite',
        result: 'fail',
        detail: (e as Error).message,
        fix: 'restart the agent: it quarantines a corrupt outbox',
      });
    }
  }
  rows.push(sensorsRow(cfg));
  rows.push(acksRow(cfg));
  return report(rows, io, values.json === true);
}

/** Sensors against the signed firmware profiles (the same judgement as `inventory`). */
export function sensorsRow(cfg: AgentConfig): Row {
  const trust = new TrustStore(cfg.storage.dir, cfg.trust.rootKey);
  trust.load();
  let refused = '';
  const bundle = profilesFrom(cfg.sensors.profilesBundle, cfg.storage.dir, trust, cliAudience(cfg), (r) => {
    refused = r;
  });
  if (!bundle)
    return {
      check: 'sensors',
      result: 'warn',
      detail: refused ? `profiles bundle refused: ${refused}` : 'no signed profiles bundle',
      fix: `install a signed bundle at ${cfg.sensors.profilesBundle}`,
    };
  const d = discover(cfg.monitor.root, cfg.sensors.declared);
  const present = new Set([
    ...d.ports,
    ...d.devices.filter((x) => x.bus !== 'declared').map((x) => x.location),
  ]);
  const list = assess(d.devices, bundle.profiles, Date.now(), present);
  const count = (v: string) => list.filter((x) => x.verdict === v).length;
  const detail = `${list.length} device(s): ${count('approved')} approved, ${count('vulnerable')} vulnerable, ${count('unknown-model') + count('unknown-firmware')} unknown, ${count('declared-missing')} missing (profiles v${bundle.version})`;
  if (count('vulnerable') > 0)
    return {
      check: 'sensors',
      result: 'fail',
      detail,
      fix: 'update or replace the vulnerable sensors (edge-agent inventory lists them with their CVEs)',
    };
  if (list.some((x) => x.verdict !== 'approved'))
    return {
      check: 'sensors',
      result: 'warn',
      detail,
      fix: 'edge-agent inventory shows which sensors are not approved',
    };
  return { check: 'sensors', result: 'pass', detail };
}

function report(rows: Row[], io: Io, json: boolean): number {
  const code = rows.some((r) => r.result === 'fail')
    ? ExitCode.Failed
    : rows.some((r) => r.result === 'warn')
      ? ExitCode.Findings
      : ExitCode.Ok;
  if (json)
    println(io.stdout, JSON.stringify({ result: ['pass', 'warn', 'fail'][code], checks: rows }, null, 2));
  else {
    println(
      io.stdout,
      table(
        ['check', 'result', 'time', 'detail'],
        rows.map((r) => [r.check, r.result, r.ms === undefined ? '' : `${r.ms} ms`, r.detail]),
      ),
    );
    const fixes = rows.filter((r) => (r.result === 'fail' || r.result === 'warn') && r.fix);
    if (fixes.length) {
      println(io.stdout, '\nfixes:');
      for (const r of fixes) println(io.stdout, `  ${r.check}: ${r.fix}`);
    }
  }
  return code;
}
