import { ExitCode } from '../core/index.js';
import { request } from '../diag/index.js';
import { describeIdentity, initIdentity } from '../identity/index.js';
import { configFrom, parse, UsageError } from './args.js';
import { type Io, println } from './io.js';
import { technician } from './technician.js';

export const IDENTITY_HELP = `Usage: edge-agent identity <init|show|rotate> [--config FILE] [--json]

  init [--force]   create the device's Ed25519 signing key (PKCS#8 PEM), an RSA-2048
                   TLS key (at mqtt.key) and its CSR (CN = device id); private files
                   are written 0600. A TLS key already paired with its certificate at
                   mqtt.key/mqtt.cert (provisioned by the city PKI) is checked (chain to
                   mqtt.ca, key match, CN = device id, validity) and kept: only the
                   signing key is made. Refuses to replace an existing identity without --force.
  rotate           force a certificate renewal now (through admin.sock): a new TLS key and
                   CSR, sent signed to the platform; the issued certificate is checked and
                   swapped in, the old pair kept until the new session is up
  show [--json]    deviceId, signingPublicKey (base64 of the raw 32-byte key), keyId,
                   the CSR, and the installed certificate's subject, fingerprint and expiry.`;

export async function identityCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { force: { type: 'boolean' } });
  if (values.help) {
    println(io.stdout, IDENTITY_HELP);
    return ExitCode.Ok;
  }
  const sub = positionals[0];
  if (sub !== 'init' && sub !== 'show' && sub !== 'rotate') {
    throw new UsageError(`identity needs init, show or rotate\n\n${IDENTITY_HELP}`);
  }
  const cfg = configFrom(values.config, io.env);
  if (sub === 'rotate') {
    const r = await request(cfg.sockets.admin, 'rotate', { technician: technician(io.env) }, 30_000);
    println(
      io.stdout,
      values.json
        ? JSON.stringify(r)
        : 'certificate renewal requested: a new key and CSR were sent to the platform',
    );
    return ExitCode.Ok;
  }
  const paths = {
    signingKey: cfg.identity.signingKey,
    tlsKey: cfg.mqtt.key,
    csr: cfg.identity.csr,
    cert: cfg.mqtt.cert,
    ca: cfg.mqtt.ca,
  };
  const made = sub === 'init' ? await initIdentity(paths, cfg.device.id, values.force === true) : undefined;
  const info = describeIdentity(cfg.device.id, {
    signingKey: cfg.identity.signingKey,
    csr: cfg.identity.csr,
    cert: cfg.mqtt.cert,
  });
  if (values.json) {
    println(
      io.stdout,
      JSON.stringify(made ? { ...info, created: made.created, kept: made.kept } : info, null, 2),
    );
    return ExitCode.Ok;
  }
  if (made) {
    println(io.stdout, `identity created for ${info.deviceId}: ${made.created.join(', ')}`);
    if (made.kept.length)
      println(
        io.stdout,
        `kept the provisioned TLS key and certificate (chain to the pinned CA, key match and CN checked): ${made.kept.join(', ')}`,
      );
    println(io.stdout, '');
  }
  println(io.stdout, `device id:          ${info.deviceId}`);
  println(io.stdout, `signing public key: ${info.signingPublicKey}`);
  println(io.stdout, `key id:             ${info.keyId}`);
  println(
    io.stdout,
    `registry line:      ${JSON.stringify({ deviceId: info.deviceId, signingPublicKey: info.signingPublicKey })}`,
  );
  println(io.stdout, `CSR:                ${info.csrPath}`);
  const c = info.certificate;
  println(
    io.stdout,
    c
      ? `certificate:        ${c.subject}, expires ${c.validTo}, sha256 ${c.fingerprint256}`
      : 'certificate:        none installed yet (have the CSR signed, then place it at mqtt.cert)',
  );
  if (sub === 'init' && info.csrPem) println(io.stdout, `\n${info.csrPem.trimEnd()}`);
  return ExitCode.Ok;
}
