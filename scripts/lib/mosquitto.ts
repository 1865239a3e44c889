import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import type { TestPki } from './test-pki.js';

/** A free loopback port (the host may run its own broker on 1883). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export const MOSQUITTO = existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto';

export interface BrokerOptions {
  /** Keep messages across a restart (on disk); default false: a SIGKILL loses what it held. */
  persistence?: boolean;
  /** Mosquitto's per-client queue limit (max_queued_messages). */
  maxQueued?: number;
  /** Another server certificate and key than the PKI's default one. */
  server?: { cert: string; key: string };
  /** A name for this broker's files when several share a folder. */
  name?: string;
}

/**
 * A real Mosquitto on a free loopback port: TLS listener requiring client
 * certificates from the test CA, identity as username, and the ACL of DESIGN.md.
 */
export class TestBroker {
  port = 0;
  private child: ChildProcess | undefined;
  private readonly conf: string;
  private readonly logFile: string;

  constructor(
    private readonly dir: string,
    private readonly pki: TestPki,
    private readonly opts: BrokerOptions = {},
  ) {
    const n = opts.name ?? 'mosquitto';
    this.conf = join(dir, `${n}.conf`);
    this.logFile = join(dir, `${n}.log`);
  }

  get url(): string {
    return `mqtts://localhost:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const acl = join(this.dir, `${this.opts.name ?? 'mosquitto'}.acl`);
    writeFileSync(
      acl,
      [
        '# Each device may use its own topics only (CN = username).',
        'pattern readwrite edge/v1/%u/#',
        '',
        '# The collector reads everything and writes acks, keys documents, configs, issued certificates and vulnerability feeds.',
        'user collector',
        'topic read edge/v1/#',
        'topic write edge/v1/+/ack',
        'topic write edge/v1/+/keys',
        'topic write edge/v1/+/config',
        'topic write edge/v1/+/cert/issued',
        'topic write edge/v1/+/vulnerabilities',
        '',
      ].join('\n'),
    );
    writeFileSync(
      this.conf,
      [
        // Started as root, Mosquitto would switch to its own user before reading the TLS files.
        'user root',
        'per_listener_settings false',
        'allow_anonymous false',
        `persistence ${this.opts.persistence ? 'true' : 'false'}`,
        `persistence_location ${this.dir}/`,
        `max_queued_messages ${this.opts.maxQueued ?? 100000}`,
        'max_inflight_messages 100',
        'log_type all',
        `log_dest file ${this.logFile}`,
        `acl_file ${acl}`,
        `listener ${this.port} 127.0.0.1`,
        `cafile ${this.pki.caFile}`,
        `certfile ${(this.opts.server ?? this.pki.server).cert}`,
        `keyfile ${(this.opts.server ?? this.pki.server).key}`,
        'require_certificate true',
        'use_identity_as_username true',
        '',
      ].join('\n'),
    );
    this.child = spawn(MOSQUITTO, ['-c', this.conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    this.child.stderr?.on('data', (d) => {
      err += d;
    });
    for (let i = 0; i < 100; i++) {
      if (this.child.exitCode !== null) throw new Error(`mosquitto exited: ${err} ${this.log()}`);
      if (await canConnect(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`mosquitto did not listen on ${this.port}: ${err}`);
  }

  /** Stops the broker cleanly. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** Kills the broker: whatever it held in memory is lost. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** Freezes the broker (SIGSTOP): connections stay open but nothing is answered, as a hung broker. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Lets a frozen broker run again. */
  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(sig);
    // A frozen broker takes SIGTERM only once it runs again.
    if (sig !== 'SIGKILL') c.kill('SIGCONT');
    await exited;
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
