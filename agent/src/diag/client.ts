import { connect } from 'node:net';
import { AgentError } from '../core/errors.js';

/** The daemon is not running (or not listening where the config says). */
export class DaemonUnreachableError extends AgentError {
  constructor(path: string, cause: unknown) {
    super(
      'DAEMON_UNREACHABLE',
      `cannot reach the agent at ${path}: ${(cause as Error).message} (is \`edge-agent run\` running?)`,
      { cause },
    );
  }
}

/** Sends one command over a local socket and returns its result. */
export function request(
  path: string,
  cmd: string,
  args: Record<string, unknown> = {},
  timeoutMs = 5000,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const c = connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(new AgentError('DAEMON_TIMEOUT', `the agent at ${path} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    c.once('error', (e) => {
      clearTimeout(timer);
      reject(new DaemonUnreachableError(path, e));
    });
    c.on('data', (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      clearTimeout(timer);
      c.end();
      const reply = JSON.parse(buf.slice(0, nl)) as { ok: boolean; result?: unknown; error?: string };
      if (reply.ok) resolve(reply.result);
      else reject(new AgentError('COMMAND_FAILED', reply.error ?? 'command failed'));
    });
    c.write(`${JSON.stringify({ ...args, cmd })}\n`);
  });
}
