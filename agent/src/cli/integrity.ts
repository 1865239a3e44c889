import { ExitCode, shown } from '../core/index.js';
import { loadSigningKey } from '../identity/index.js';
import { makeBaseline, type ScanProgress, verifyAgainstBaseline } from '../integrity/index.js';
import { configFrom, parse, UsageError } from './args.js';
import { bytes, type Io, println, table, terminalJson } from './io.js';

export const INTEGRITY_HELP = `Usage: edge-agent integrity <baseline|verify> [--root DIR] [--config FILE] [--json]

  baseline   record SHA-256, size, mode, owner and symlink target of every path in
             integrity.paths (folders walked, symlinks never followed), signed with
             the device key, in integrity.baselineFile
  verify     check the baseline's signature, scan again and list what was modified,
             added, removed or had its mode or owner changed; exit code 1 if anything
             changed. Every report names the baseline's digest.

--root maps the gateway's paths under DIR (a mounted image, a fixture tree).
A progress line is shown on a terminal.`;

export async function integrityCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { root: { type: 'string' } });
  if (values.help) {
    println(io.stdout, INTEGRITY_HELP);
    return ExitCode.Ok;
  }
  const sub = positionals[0];
  if (sub !== 'baseline' && sub !== 'verify')
    throw new UsageError(`integrity needs baseline or verify\n\n${INTEGRITY_HELP}`);
  const cfg = configFrom(values.config, io.env);
  const root = values.root ?? cfg.monitor.root;
  const id = loadSigningKey(cfg.identity.signingKey);
  const onProgress = io.isTty
    ? (p: ScanProgress) =>
        io.stderr.write(`\r\x1b[K${p.files} files, ${bytes(p.bytes)}: ${shown(p.path.slice(-60))}`)
    : undefined;
  const endProgress = () => io.isTty && io.stderr.write('\r\x1b[K');
  if (sub === 'baseline') {
    const r = await makeBaseline({
      file: cfg.integrity.baselineFile,
      root,
      paths: cfg.integrity.paths,
      deviceId: cfg.device.id,
      key: id.privateKey,
      publicKey: id.publicKey,
      nowMs: Date.now(),
      onProgress,
    });
    endProgress();
    if (values.json) println(io.stdout, terminalJson({ file: cfg.integrity.baselineFile, ...r }));
    else {
      println(
        io.stdout,
        `baseline of ${r.files} files written to ${cfg.integrity.baselineFile}, digest ${r.digest}`,
      );
      if (r.missing.length)
        println(io.stdout, `not present (recorded as absent): ${r.missing.map(shown).join(', ')}`);
    }
    return ExitCode.Ok;
  }
  const r = await verifyAgainstBaseline(
    cfg.integrity.baselineFile,
    id.publicKey,
    root,
    Date.now(),
    onProgress,
  );
  endProgress();
  if (values.json) println(io.stdout, terminalJson(r));
  else {
    println(
      io.stdout,
      `baseline ${r.baselineDigest.slice(0, 16)} of ${r.baselineCreatedAt}: ${r.files} files checked, ${r.changes.length} change(s)`,
    );
    if (r.changes.length)
      println(
        io.stdout,
        table(
          ['change', 'path', 'detail'],
          r.changes.map((c) => [c.kind, c.path, c.detail]),
        ),
      );
  }
  return r.changes.length === 0 ? ExitCode.Ok : ExitCode.Findings;
}
