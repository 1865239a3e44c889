import { join } from 'node:path';
// Light entries only (scripts/check-imports.ts): with the daemon running, this command's
// cost is mostly Node's start-up and the files it loads (#12, README "Benchmark").
import type { AgentConfig } from '../config/index.js';
import { ExitCode } from '../core/errors.js';
import { shown } from '../core/terminal.js';
import type { AgentStatus } from '../daemon/index.js';
import { DaemonUnreachableError, request } from '../diag/client.js';
import type { describeIdentity as DescribeIdentity } from '../identity/show.js';
import { configFrom, parse } from './args.js';
import { bytes, type Io, println, table } from './io.js';

export const STATUS_HELP = `Usage: edge-agent status [--config FILE] [--json]

Shows the agent's state: device, epoch, connection state and last error, last
PUBACK and last ack, buffer rows, bytes and oldest age per
stream and state, last seq per stream; the gateway's own software: vulnerable
packages, known-exploited and critical CVEs, the vulnerability feed's version,
age and expiry (--json: "software"). Asks the running daemon through
agent.sock; when the daemon is stopped, reads the data dir directly.`;

export async function statusCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) {
    println(io.stdout, STATUS_HELP);
    return ExitCode.Ok;
  }
  const cfg = configFrom(values.config, io.env);
  const asked = request(cfg.sockets.agent, 'status');
  // The key and certificate reader (node:crypto) loads while the daemon answers.
  const identity = import('../identity/show.js');
  identity.catch(() => undefined); // awaited below; this only keeps an early throw from leaving it unhandled
  let status: AgentStatus;
  try {
    status = (await asked) as AgentStatus;
  } catch (e) {
    if (!(e instanceof DaemonUnreachableError)) throw e;
    // Imported only here: a running daemon answers without SQLite, MQTT or the software modules.
    const [{ readOfflineStats }, { readSyncState }] = await Promise.all([
      import('../buffer/offline.js'),
      import('../sync/state-file.js'),
    ]);
    const offline = readOfflineStats(join(cfg.storage.dir, 'outbox.db'));
    status = {
      deviceId: cfg.device.id,
      running: false,
      epoch: offline?.epoch ?? null,
      buffer: offline ? { streams: offline.streams } : undefined,
      // The last state the daemon recorded, as it was when it stopped.
      link: readSyncState(cfg.storage.dir),
    };
  }
  status.identity = identitySummary(cfg, (await identity).describeIdentity);
  if (!status.running) {
    // Imported here: its node:crypto would load before the request is sent.
    const { readJsonState } = await import('../config/files.js');
    const a = readJsonState<{ failing?: unknown; score?: unknown; checkedAt?: unknown }>(
      join(cfg.storage.dir, 'audit-state.json'),
    );
    // A file on disk: a corrupt one is no audit, never a crash of `status`.
    status.audit =
      a &&
      typeof a.score === 'number' &&
      typeof a.checkedAt === 'string' &&
      Array.isArray(a.failing) &&
      a.failing.every((f) => typeof f === 'string')
        ? { score: a.score, highFailures: a.failing, checkedAt: a.checkedAt }
        : null;
    status.software = (await import('../software/summary.js')).readSoftwareSummary(cfg.storage.dir);
  }
  if (values.json) {
    println(io.stdout, JSON.stringify(status, null, 2));
    return ExitCode.Ok;
  }
  println(
    io.stdout,
    `device:  ${String(status.deviceId)}   daemon: ${status.running ? 'running' : 'stopped'}   epoch: ${String(status.epoch ?? '-')}`,
  );
  const id = status.identity;
  if (id)
    println(
      io.stdout,
      `identity: key ${id.keyId ?? '-'}, certificate ${id.certificate ? `valid until ${id.certificate.validTo}` : 'not installed'}`,
    );
  const audit = status.audit;
  if (audit)
    println(
      io.stdout,
      shown(
        `audit:   score ${audit.score}/100 at ${audit.checkedAt}${audit.highFailures?.length ? `; open alerts: ${audit.highFailures.join(', ')}` : ''}`,
      ),
    );
  if (status.software) {
    const { summaryLine } = await import('../software/summary.js');
    println(io.stdout, `software: ${summaryLine(status.software)} (at ${shown(status.software.checkedAt)})`);
  }
  const integ = status.integrity;
  if (integ) println(io.stdout, `integrity: ${integ.changes} change(s) at ${integ.checkedAt}`);
  for (const c of status.capabilities ?? [])
    if (c.state === 'failed')
      println(io.stdout, `failed:  ${c.name} (${c.error?.code ?? '?'}: ${c.error?.message ?? ''})`);
  const l = status.link;
  if (l) {
    const state = status.running ? l.state : `${l.state} (when the daemon stopped)`;
    println(io.stdout, shown(`link:    ${state}  ${l.url}`));
    if (l.lastError)
      println(
        io.stdout,
        shown(`         last error ${l.lastError.code} at ${l.lastError.at}: ${l.lastError.message}`),
      );
    println(
      io.stdout,
      `         last PUBACK ${l.lastPubackAt ?? '-'}   last ack ${l.lastAckAt ?? '-'}   in flight ${l.delivery.inflight}/${l.delivery.window}`,
    );
  }
  const b = status.buffer;
  if (!b) {
    println(io.stdout, 'buffer:  none yet');
    return ExitCode.Ok;
  }
  if (b.usedBytes !== undefined)
    println(io.stdout, `buffer:  ${bytes(b.usedBytes)} of ${bytes(b.maxBytes ?? 0)}`);
  if (b.salvaged && b.salvaged.rows > 0)
    println(
      io.stdout,
      `salvaged: ${b.salvaged.rows} rows (${bytes(b.salvaged.bytes)}) of an older epoch, from a quarantined file`,
    );
  const age = (ms: number | null) =>
    ms === null ? '-' : `${Math.max(0, Math.round((Date.now() - ms) / 1000))} s`;
  println(
    io.stdout,
    table(
      ['stream', 'last seq', 'pending', 'readings', 'bytes', 'oldest', 'sent (awaiting ack)'],
      b.streams.map((s) => [
        s.stream,
        String(s.lastSeq),
        String(s.pending.rows),
        String(s.pending.items),
        bytes(s.pending.bytes),
        age(s.pending.oldestMs),
        String(s.sent.rows),
      ]),
    ),
  );
  return ExitCode.Ok;
}

/** Key id and certificate expiry, read locally (cheap: no network, no daemon). */
function identitySummary(
  cfg: AgentConfig,
  describeIdentity: typeof DescribeIdentity,
): { keyId: string; certificate: { subject: string; validTo: string } | null } | null {
  try {
    const i = describeIdentity(cfg.device.id, {
      signingKey: cfg.identity.signingKey,
      csr: cfg.identity.csr,
      cert: cfg.mqtt.cert,
    });
    return {
      keyId: i.keyId,
      certificate: i.certificate && { subject: i.certificate.subject, validTo: i.certificate.validTo },
    };
  } catch {
    return null;
  }
}
