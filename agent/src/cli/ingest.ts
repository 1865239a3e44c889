import { connect } from 'node:net';
import { ExitCode } from '../core/index.js';
import { DaemonUnreachableError } from '../diag/index.js';
import { configFrom, parse } from './args.js';
import { type Io, println } from './io.js';

export const INGEST_HELP = `Usage: edge-agent ingest [--config FILE] [--json] < readings.ndjson

Sends NDJSON readings from stdin to the running agent (agent.sock), one per line:
  {"sensor":"aq-7","value":12.5,"unit":"ug/m3","ts":1764150000000,"labels":{"site":"north"}}
value: number, string or boolean; ts (milliseconds) and labels optional.
Each line is answered after its batch has committed. Exit code 0 when every
line was accepted, 1 when some were refused (each is printed with its reason;
the good lines are accepted either way), 2 when the agent cannot be reached.`;

interface Reply {
  line: number;
  ok: boolean;
  error?: string;
}

export async function ingestCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) {
    println(io.stdout, INGEST_HELP);
    return ExitCode.Ok;
  }
  const cfg = configFrom(values.config, io.env);
  const path = cfg.sockets.agent;
  const replies: Reply[] = await new Promise((resolve, reject) => {
    const out: Reply[] = [];
    const sock = connect(path);
    let buf = '';
    sock.once('error', (e) => reject(new DaemonUnreachableError(path, e)));
    sock.once('connect', () => io.stdin.pipe(sock));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let nl = buf.indexOf('\n');
      while (nl !== -1) {
        out.push(JSON.parse(buf.slice(0, nl)) as Reply);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
      }
    });
    sock.once('end', () => resolve(out));
  });
  const bad = replies.filter((r) => !r.ok);
  if (values.json) {
    println(
      io.stdout,
      JSON.stringify({ accepted: replies.length - bad.length, rejected: bad.length, errors: bad }, null, 2),
    );
  } else {
    for (const r of bad) println(io.stderr, `line ${r.line}: ${r.error}`);
    println(io.stderr, `${replies.length - bad.length} of ${replies.length} line(s) accepted`);
  }
  return bad.length === 0 ? ExitCode.Ok : ExitCode.Findings;
}
