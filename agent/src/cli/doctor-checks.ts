import { createPrivateKey, X509Certificate } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { isIP, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Finding } from '../audit/index.js';
import { type AgentConfig, readSecretFile } from '../config/index.js';
import { assess, DiscoveryError, type DiscoveryResult, discover, profilesFrom } from '../sensors/index.js';
import { classify } from '../sync/index.js';
import { TrustStore } from '../trust/index.js';
import { cliAudience } from './inventory.js';

export const DAY = 86_400_000;

export function timed<T>(f: () => Promise<T>): Promise<{ v: T; ms: number }> {
  const t = performance.now();
  return f().then((v) => ({ v, ms: Math.round(performance.now() - t) }));
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
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
export async function network(cfg: AgentConfig, rows: Finding[]): Promise<void> {
  const u = new URL(cfg.mqtt.url);
  const host = u.hostname;
  const port = Number(u.port || (u.protocol === 'mqtts:' ? 8883 : 1883));
  if (isIP(host)) rows.push({ id: 'dns', status: 'not-applicable', detail: `${host} is an address` });
  else {
    try {
      const r = await timed(() => withTimeout(lookup(host), 3000, 'DNS'));
      rows.push({ id: 'dns', status: 'pass', ms: r.ms, detail: `${host} → ${r.v.address}` });
    } catch (e) {
      rows.push({
        id: 'dns',
        status: 'fail',
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
    rows.push({ id: 'tcp', status: 'pass', ms: r.ms, detail: `${host}:${port} accepts connections` });
  } catch (e) {
    const c = classify(e, `${host}:${port}`);
    rows.push({
      id: 'tcp',
      status: 'fail',
      detail: `${c.code}: ${c.message}`,
      fix: 'check the broker address, the uplink and any firewall on the way',
    });
    return;
  }
  if (u.protocol !== 'mqtts:') {
    rows.push({
      id: 'tls',
      status: 'fail',
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
    rows.push({
      id: 'tls',
      status: 'not-applicable',
      detail: `TLS files not usable: ${(e as Error).message}`,
    });
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
      id: 'tls',
      status: 'pass',
      ms: r.ms,
      detail: `${r.v} handshake, server verified against the pinned CA`,
    });
  } catch (e) {
    const c = classify(e, `${host}:${port}`);
    rows.push({
      id: 'tls',
      status: 'fail',
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
      id: 'mqtt',
      status: 'pass',
      ms: r.ms,
      detail: `CONNECT accepted (MQTT ${cfg.mqtt.protocolVersion === 5 ? '5' : '3.1.1'})`,
    });
  } catch (e) {
    const c = classify(e, `${host}:${port}`);
    rows.push({
      id: 'mqtt',
      status: 'fail',
      detail: `${c.code}: ${c.message}`,
      fix: 'the broker refused this client: check its certificate (CN = device id) and the broker ACL',
    });
  }
}

/** The pinned CA and the device certificate: chain, key match, name, validity (shared with `enroll`). */
export function certificates(cfg: AgentConfig, rows: Finding[], now: number, clockOk: boolean): void {
  let ca: X509Certificate;
  try {
    ca = new X509Certificate(readFileSync(cfg.mqtt.ca));
    rows.push(
      ca.ca
        ? { id: 'ca-pin', status: 'pass', detail: `pinned CA ${ca.subject.replace(/\n/g, ', ')}` }
        : {
            id: 'ca-pin',
            status: 'fail',
            detail: `${cfg.mqtt.ca} is not a CA certificate`,
            fix: 'put the platform CA (not a leaf certificate) at mqtt.ca',
          },
    );
  } catch (e) {
    rows.push({
      id: 'ca-pin',
      status: 'fail',
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
      id: 'certificate',
      status: 'fail',
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
      id: 'certificate',
      status: 'fail',
      detail: problems.join('; '),
      fix: 'enroll again: a new CSR, signed by the platform CA',
    });
    return;
  }
  const to = Date.parse(cert.validTo);
  if (!clockOk)
    rows.push({
      id: 'certificate',
      status: 'warn',
      detail: `valid until ${new Date(to).toISOString()}; expiry not judged while the clock is implausible`,
    });
  else if (to < now)
    rows.push({
      id: 'certificate',
      status: 'fail',
      detail: `expired ${new Date(to).toISOString()}`,
      fix: 'renew the certificate',
    });
  else if (to - now < 30 * DAY)
    rows.push({
      id: 'certificate',
      status: 'warn',
      detail: `expires in ${Math.floor((to - now) / DAY)} days`,
      fix: 'renew the certificate',
    });
  else
    rows.push({
      id: 'certificate',
      status: 'pass',
      detail: `chains to the CA, matches the key, names ${cfg.device.id}, valid ${Math.floor((to - now) / DAY)} more days`,
    });
}

/** Sensors against the signed firmware profiles (the same judgement as `inventory`). */
export function sensorsRow(cfg: AgentConfig): Finding {
  const trust = new TrustStore(cfg.storage.dir, cfg.trust.rootKey);
  trust.load();
  let refused = '';
  const bundle = profilesFrom(cfg.sensors.profilesBundle, cfg.storage.dir, trust, cliAudience(cfg), (r) => {
    refused = r;
  });
  if (!bundle)
    return {
      id: 'sensors',
      status: 'warn',
      detail: refused ? `profiles bundle refused: ${refused}` : 'no signed profiles bundle',
      fix: `install a signed bundle at ${cfg.sensors.profilesBundle}`,
    };
  let d: DiscoveryResult;
  try {
    d = discover(cfg.monitor.root, cfg.sensors.declared);
  } catch (e) {
    if (!(e instanceof DiscoveryError)) throw e;
    return {
      id: 'sensors',
      status: 'not-readable',
      detail: `${e.code}: ${e.message}`,
      fix: 'check the sysfs bus folders named (edge-agent logs shows the daemon failing the same way)',
    };
  }
  const present = new Set([
    ...d.ports,
    ...d.devices.filter((x) => x.bus !== 'declared').map((x) => x.location),
  ]);
  const list = assess(d.devices, bundle.profiles, Date.now(), present);
  const count = (v: string) => list.filter((x) => x.verdict === v).length;
  const detail = `${list.length} device(s): ${count('approved')} approved, ${count('vulnerable')} vulnerable, ${count('unknown-model') + count('unknown-firmware')} unknown, ${count('declared-missing')} missing (profiles v${bundle.version})`;
  if (count('vulnerable') > 0)
    return {
      id: 'sensors',
      status: 'fail',
      detail,
      fix: 'update or replace the vulnerable sensors (edge-agent inventory lists them with their CVEs)',
    };
  if (list.some((x) => x.verdict !== 'approved'))
    return {
      id: 'sensors',
      status: 'warn',
      detail,
      fix: 'edge-agent inventory shows which sensors are not approved',
    };
  return { id: 'sensors', status: 'pass', detail };
}
