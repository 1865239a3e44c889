import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Clock } from '../core/index.js';

/** A minimal MQTT 3.1.1 CONNECT (client id `edge-probe`, clean session). */
const CONNECT = Buffer.from([
  0x10,
  0x16,
  0x00,
  0x04,
  0x4d,
  0x51,
  0x54,
  0x54,
  0x04,
  0x02,
  0x00,
  0x3c,
  0x00,
  0x0a,
  ...Buffer.from('edge-probe'),
]);

export type ProbeOutcome = 'accepted' | 'refused' | 'unreachable' | 'no-mqtt';

/** Waits for a CONNACK (0x20) with return code 0 on a socket that was sent CONNECT. */
function awaitConnack(
  sock: NodeJS.ReadWriteStream & { destroy(): void; on(e: string, f: (...a: never[]) => void): unknown },
  timeoutMs: number,
  clock: Clock,
  onReady: (f: () => void) => void,
): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: ProbeOutcome) => {
      if (done) return;
      done = true;
      clock.clearTimeout(t);
      sock.destroy();
      resolve(o);
    };
    const t = clock.setTimeout(() => finish('no-mqtt'), timeoutMs);
    onReady(() => sock.write(CONNECT));
    sock.on('data', (d: Buffer) =>
      finish(d[0] === 0x20 && d.length >= 4 && d[3] === 0 ? 'accepted' : 'refused'),
    );
    sock.on('error', (e: NodeJS.ErrnoException) =>
      finish(
        e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH' || e.code === 'ETIMEDOUT'
          ? 'unreachable'
          : 'refused',
      ),
    );
    sock.on('close', () => finish('refused'));
  });
}

/** Does the broker speak plaintext MQTT on `port`? Only a CONNACK accepting us counts as yes. */
export function probePlaintext(
  host: string,
  port: number,
  timeoutMs: number,
  clock: Clock,
): Promise<ProbeOutcome> {
  const s = netConnect({ host, port });
  return awaitConnack(s, timeoutMs, clock, (ready) => s.once('connect', ready));
}

/** Does the broker let a TLS client without a certificate get as far as a CONNACK? */
export function probeWithoutClientCert(
  host: string,
  port: number,
  ca: string,
  servername: string | undefined,
  timeoutMs: number,
  clock: Clock,
): Promise<ProbeOutcome> {
  const s = tlsConnect({ host, port, ca, servername, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
  return awaitConnack(s, timeoutMs, clock, (ready) => s.once('secureConnect', ready));
}
