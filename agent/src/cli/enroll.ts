import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { auditContext, type Finding, runAudit } from '../audit/index.js';
import { Outbox } from '../buffer/index.js';
import { ClockQuality, ExitCode, Stream, silentLogger, systemClock, systemRandom } from '../core/index.js';
import { DaemonUnreachableError, request } from '../diag/index.js';
import { describeIdentity, initIdentity, loadSigningKey } from '../identity/index.js';
import { makeBaseline } from '../integrity/index.js';
import { BUILD_FLOOR_MS } from '../monitor/index.js';
import { seal } from '../telemetry/index.js';
import { DocumentError } from '../trust/index.js';
import { installKeysFile } from './acks.js';
import { configFrom, parse } from './args.js';
import { certificates, network, sensorsRow } from './doctor-checks.js';
import { printFindings } from './findings.js';
import { type Io, println } from './io.js';

export const ENROLL_HELP = `Usage: edge-agent enroll [--config FILE] [--keys FILE] [--json]

Commissions the gateway. The first run creates the identity if missing and prints
the CSR and the signing key (with the one-line form for the platform's registry).
Once the issued certificate is at mqtt.cert (and the CA at mqtt.ca), the next run
verifies it (chain to the pinned CA, key match, device name, validity), tests the
connection, creates the integrity baseline if there is none, runs the audit, and
ends with a commissioning report: printed here and sent upstream as a signed
\`commissioning\` report (through the daemon if it runs, else from the outbox when it
starts). Exit code 0 when commissioned cleanly, 1 with findings, 2 when it could not.

  --keys FILE   the platform's root-signed keys document (npm run sign -- keys ...),
                checked against trust.rootKey and installed first, so the agent can
                verify the collector's signed acks from its first session (a running
                daemon also takes it from the retained {prefix}/{device}/keys topic)`;

export async function enrollCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { keys: { type: 'string' } });
  if (values.help) {
    println(io.stdout, ENROLL_HELP);
    return ExitCode.Ok;
  }
  const cfg = configFrom(values.config, io.env);
  if (typeof values.keys === 'string') {
    try {
      const k = installKeysFile(cfg, values.keys);
      if (!values.json)
        println(
          io.stdout,
          `keys document v${k.version}: collector key ${k.collector.join(', ') || '(none)'}`,
        );
    } catch (e) {
      if (!(e instanceof DocumentError)) throw e;
      println(io.stderr, `--keys ${values.keys}: ${e.code}: ${e.message}`);
      return ExitCode.Failed;
    }
  }
  const paths = { signingKey: cfg.identity.signingKey, tlsKey: cfg.mqtt.key, csr: cfg.identity.csr };
  const created = !existsSync(paths.signingKey);
  if (created) await initIdentity(paths, cfg.device.id);
  const id = describeIdentity(cfg.device.id, {
    signingKey: cfg.identity.signingKey,
    csr: cfg.identity.csr,
    cert: cfg.mqtt.cert,
  });
  const say = (s = '') => !values.json && println(io.stdout, s);
  say(`device ${id.deviceId}: identity ${created ? 'created' : 'present'}`);
  say(`registry line: ${JSON.stringify({ deviceId: id.deviceId, signingPublicKey: id.signingPublicKey })}`);
  if (!id.certificate) {
    say(`\nCSR (${id.csrPath}), to be signed by the platform CA:\n${id.csrPem?.trimEnd() ?? ''}`);
    say(`\nthen put the certificate at ${cfg.mqtt.cert} and the CA at ${cfg.mqtt.ca}, and run enroll again.`);
    if (values.json)
      println(io.stdout, JSON.stringify({ stage: 'awaiting-certificate', identity: id }, null, 2));
    return ExitCode.Findings;
  }
  const now = Date.now();
  const rows: Finding[] = [];
  certificates(cfg, rows, now, now >= BUILD_FLOOR_MS);
  if (!rows.some((r) => r.status === 'fail')) await network(cfg, rows);
  let baseline: { digest: string; created: boolean } | null = null;
  const key = loadSigningKey(cfg.identity.signingKey);
  if (!existsSync(cfg.integrity.baselineFile)) {
    const b = await makeBaseline({
      file: cfg.integrity.baselineFile,
      root: cfg.monitor.root,
      paths: cfg.integrity.paths,
      deviceId: cfg.device.id,
      key: key.privateKey,
      publicKey: key.publicKey,
      nowMs: now,
    });
    baseline = { digest: b.digest, created: true };
  } else baseline = { digest: 'existing', created: false };
  const audit = await runAudit(auditContext(cfg.monitor.root, cfg), now);
  const connected = rows.some((r) => r.id === 'mqtt' && r.status === 'pass');
  const report = {
    deviceId: cfg.device.id,
    commissionedAt: new Date(now).toISOString(),
    identity: { keyId: id.keyId, certificate: id.certificate },
    checks: rows,
    connection: connected ? 'ok' : 'failed',
    inventory: sensorsRow(cfg),
    integrity: baseline,
    audit: { score: audit.score, highFailures: audit.highFailures, counts: audit.counts },
  };
  const sent = await sendUpstream(cfg, Buffer.from(JSON.stringify(report)), key);
  if (values.json) println(io.stdout, JSON.stringify({ stage: 'commissioned', report, sent }, null, 2));
  else {
    say('\ncommissioning report');
    printFindings(io, rows);
    say(
      `integrity baseline: ${baseline.created ? `created (${baseline.digest.slice(0, 16)})` : 'already present'}`,
    );
    say(
      `audit: score ${audit.score}/100${audit.highFailures.length ? `, failing: ${audit.highFailures.join(', ')}` : ''}`,
    );
    say(`sensors: ${report.inventory.status}, ${report.inventory.detail}`);
    say(`report sent upstream ${sent}`);
  }
  const bad = rows.some((r) => r.status === 'fail') || audit.highFailures.length > 0;
  return bad ? ExitCode.Findings : ExitCode.Ok;
}

/** Through the running daemon, else straight into the outbox (delivered when the daemon runs). */
async function sendUpstream(
  cfg: ReturnType<typeof configFrom>,
  body: Buffer,
  key: ReturnType<typeof loadSigningKey>,
): Promise<string> {
  try {
    await request(cfg.sockets.admin, 'commissioning', { body: body.toString('base64') });
    return 'through the running agent';
  } catch (e) {
    if (!(e instanceof DaemonUnreachableError)) throw e;
  }
  const ob = new Outbox({
    file: join(cfg.storage.dir, 'outbox.db'),
    maxBytes: cfg.storage.maxBytes,
    minFreeBytes: cfg.storage.minFreeBytes,
    sealer: (stream, items, head) =>
      seal(
        {
          deviceId: cfg.device.id,
          signingKey: key.privateKey,
          keyId: key.keyId,
          nowMs: Date.now(),
          clock: ClockQuality.UNSYNCED,
        },
        stream,
        items,
        head,
      ),
    clock: systemClock,
    random: systemRandom,
    log: silentLogger(),
  });
  await ob.start();
  try {
    await ob.append([
      {
        stream: Stream.REPORTS,
        items: [
          {
            stream: Stream.REPORTS,
            report: { kind: 'commissioning', contentType: 'application/json', body },
          },
        ],
      },
    ]);
  } finally {
    await ob.stop();
  }
  return 'to the outbox (the agent delivers it when it runs)';
}
