import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { Aedes } from 'aedes';

/** The demo's broker identity and trust. */
export interface DemoBrokerTls {
  ca: string;
  cert: string;
  key: string;
}

/**
 * An embedded MQTT 3.1.1 broker (aedes) for the demo only, behind a Node TLS
 * server that requires a client certificate from the dev CA; the certificate's
 * CN is the username, and DESIGN.md's ACL is applied on publish and subscribe.
 */
export class DemoBroker {
  private aedes: Aedes | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly tls: DemoBrokerTls) {}

  async start(port = 0): Promise<void> {
    this.aedes ??= await this.makeAedes();
    const aedes = this.aedes;
    const server = createServer(
      { ...this.tls, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
      (s) => {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        aedes.handle(s);
      },
    );
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Simulates an outage: the listener goes away and every connection drops. */
  async pause(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
  }

  async resume(): Promise<void> {
    await this.start(this.port);
  }

  async stop(): Promise<void> {
    await this.pause();
    await new Promise<void>((resolve) => (this.aedes ? this.aedes.close(() => resolve()) : resolve()));
  }

  private async makeAedes(): Promise<Aedes> {
    const aedes = await Aedes.createBroker();
    const cnOf = (client: { conn: unknown } | null): string | undefined => {
      const sock = client?.conn as TLSSocket | undefined;
      const cn = sock?.getPeerCertificate?.()?.subject?.CN;
      return typeof cn === 'string' ? cn : undefined;
    };
    const mayWrite = (cn: string, topic: string) =>
      topic.startsWith(`edge/v1/${cn}/`) ||
      (cn === 'collector' && /^edge\/v1\/[^/]+\/(ack|keys|config|cert\/issued)$/.test(topic));
    const mayRead = (cn: string, topic: string) =>
      topic.startsWith(`edge/v1/${cn}/`) || (cn === 'collector' && topic.startsWith('edge/v1/'));
    aedes.authenticate = (client, _u, _p, cb) => cb(null, cnOf(client) !== undefined);
    aedes.authorizePublish = (client, packet, cb) => {
      const cn = cnOf(client);
      cb(
        client === null || (cn !== undefined && mayWrite(cn, packet.topic))
          ? null
          : new Error('not authorized'),
      );
    };
    aedes.authorizeSubscribe = (client, sub, cb) => {
      const cn = cnOf(client);
      if (cn !== undefined && mayRead(cn, sub.topic)) cb(null, sub);
      else cb(new Error('not authorized'), null);
    };
    return aedes;
  }
}
