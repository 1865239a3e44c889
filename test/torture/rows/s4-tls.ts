import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as netServer, type Server } from 'node:net';
import { join } from 'node:path';
import { createServer as tlsServer } from 'node:tls';
import mqtt from 'mqtt';
import { silentLogger, systemClock, systemRandom } from '../../../agent/src/core/index.js';
import { MqttLink } from '../../../agent/src/sync/index.js';
import { freePort, TestBroker } from '../../../scripts/lib/mosquitto.js';
import { TestPki } from '../../../scripts/lib/test-pki.js';
import { waitFor } from '../../helpers/wait.js';
import { addDefect, emptyResult, type Row, sleep } from '../lib.js';

/** How long one case may try before it is judged: long enough for several attempts of the link. */
const TRY_MS = 1500;
const DAY = 86_400_000;

/** Sessions the broker's log shows for `cn`. */
const sessions = (log: string, cn: string) =>
  log.split('\n').filter((l) => l.includes('New client connected') && l.includes(` as ${cn} `)).length;

/** The agent's own link, pointed at `url` with the given files: did it ever come up? */
async function agentTries(
  url: string,
  files: { ca: string; cert: string; key: string },
  extra: { servername?: string; insecure?: boolean } = {},
) {
  const link = new MqttLink({
    url,
    protocolVersion: 5,
    servername: extra.servername,
    keepaliveS: 30,
    // The agent's own cap (sync/service.ts) is about this size: a document plus overhead.
    maxPacketBytes: 256 * 1024,
    insecurePlaintext: extra.insecure ?? false,
    clientId: 'gw-s4',
    tls: () => ({ ca: readFileSync(files.ca), cert: readFileSync(files.cert), key: readFileSync(files.key) }),
    will: () => ({ topic: 'edge/v1/gw-s4/status', payload: '{"state":"offline"}' }),
    birth: () => ({ topic: 'edge/v1/gw-s4/status', payload: '{"state":"online"}' }),
    goodbye: () => ({ topic: 'edge/v1/gw-s4/status', payload: '{"state":"offline"}' }),
    subscriptions: [],
    connectTimeoutMs: 2000,
    backoffMinMs: 100,
    backoffMaxMs: 400,
    clock: systemClock,
    random: systemRandom,
    log: silentLogger(),
  });
  let up = 0;
  link.on('up', () => up++);
  try {
    await link.start();
  } catch (e) {
    return { up, error: (e as { code?: string }).code ?? String(e) };
  }
  // Judged once the first attempt has ended (a loaded machine may take seconds), plus time for more.
  await waitFor(() => up > 0 || link.lastError, 'the first attempt to end', 30_000).catch(() => undefined);
  await sleep(TRY_MS);
  const error = link.lastError?.code ?? null;
  await link.stop();
  return { up, error };
}

/** A raw client against the real broker: did the broker give it a session? */
async function clientTries(url: string, opts: Record<string, unknown>): Promise<boolean> {
  const c = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 3000, ...opts });
  const ok = await new Promise<boolean>((resolve) => {
    c.once('connect', () => resolve(true));
    c.once('error', () => resolve(false));
    c.once('close', () => resolve(false));
  });
  c.end(true);
  return ok;
}

/** S4: every broken TLS set-up, from the agent's side and from the broker's: sessions opened. */
export const s4: Row = {
  id: 'S4',
  what: 'TLS matrix (CA, name, validity, weak key, TLS 1.1, plaintext, foreign client cert): sessions opened',
  async run(ctx) {
    const r = emptyResult('cases');
    const pki = new TestPki(join(ctx.dir, 'pki'));
    const other = new TestPki(join(ctx.dir, 'other'));
    const device = pki.client('gw-s4');
    const brokers: TestBroker[] = [];
    const servers: Server[] = [];
    const broker = async (name: string, server?: { cert: string; key: string }) => {
      const b = new TestBroker(ctx.dir, pki, { name, server });
      await b.start();
      brokers.push(b);
      return b;
    };
    try {
      const good = await broker('good');
      // Control: the right set-up connects, or a refusal below would prove nothing.
      const control = await agentTries(good.url, { ca: pki.caFile, ...device });
      if (control.up === 0)
        addDefect(r, `control: the agent did not connect to a good broker (${control.error})`);
      const expired = await broker(
        'expired',
        pki.serverCert('expired', { notBefore: new Date(Date.now() - 3 * DAY), days: 1 }),
      );
      const future = await broker(
        'future',
        pki.serverCert('future', { notBefore: new Date(Date.now() + 2 * DAY), days: 30 }),
      );
      // OpenSSL's default security level keeps Mosquitto from serving these two: a TLS server that will.
      const probe = async (cert: string, key: string, version?: 'TLSv1.1') => {
        let opened = 0;
        const srv = tlsServer({
          cert: readFileSync(cert),
          key: readFileSync(key),
          ...(version ? { minVersion: version, maxVersion: version } : {}),
          ciphers: 'DEFAULT@SECLEVEL=0',
        });
        srv.on('secureConnection', (sock) => {
          opened++;
          sock.destroy();
        });
        srv.on('tlsClientError', () => undefined);
        servers.push(srv);
        const port = await freePort();
        await new Promise<void>((res) => srv.listen(port, '127.0.0.1', res));
        return { url: `mqtts://localhost:${port}`, opened: () => opened };
      };
      const w = weakServer(ctx.dir, pki);
      const weak = await probe(w.cert, w.key);
      const tls11 = await probe(pki.server.cert, pki.server.key, 'TLSv1.1');
      let plainConnects = 0;
      const plain = netServer((s) => {
        s.once('data', (d) => {
          if (d[0] === 0x10) plainConnects++; // an MQTT CONNECT in the clear
          s.destroy();
        });
      });
      servers.push(plain);
      const plainPort = await freePort();
      await new Promise<void>((res) => plain.listen(plainPort, '127.0.0.1', res));

      const agentCases: {
        name: string;
        url: string;
        files: { ca: string; cert: string; key: string };
        extra?: { servername?: string; insecure?: boolean };
        opened: () => number;
      }[] = [
        {
          name: 'wrong CA',
          url: good.url,
          files: { ca: other.caFile, ...device },
          opened: () => sessions(good.log(), 'gw-s4') - 1,
        },
        {
          name: 'wrong server name',
          url: `mqtts://127.0.0.1:${good.port}`,
          files: { ca: pki.caFile, ...device },
          extra: { servername: 'wrong.example' },
          opened: () => sessions(good.log(), 'gw-s4') - 1,
        },
        {
          name: 'expired server certificate',
          url: expired.url,
          files: { ca: pki.caFile, ...device },
          opened: () => sessions(expired.log(), 'gw-s4'),
        },
        {
          name: 'server certificate not yet valid',
          url: future.url,
          files: { ca: pki.caFile, ...device },
          opened: () => sessions(future.log(), 'gw-s4'),
        },
        {
          name: 'server key of RSA-1024',
          url: weak.url,
          files: { ca: pki.caFile, ...device },
          opened: weak.opened,
        },
        {
          name: 'server speaking only TLS 1.1',
          url: tls11.url,
          files: { ca: pki.caFile, ...device },
          opened: tls11.opened,
        },
        {
          name: 'plaintext URL',
          url: `mqtt://localhost:${plainPort}`,
          files: { ca: pki.caFile, ...device },
          opened: () => plainConnects,
        },
        {
          name: 'TLS URL to a plaintext listener',
          url: `mqtts://localhost:${plainPort}`,
          files: { ca: pki.caFile, ...device },
          opened: () => plainConnects,
        },
      ];
      for (const c of agentCases) {
        const res = await agentTries(c.url, c.files, c.extra);
        r.cases++;
        const opened = Math.max(res.up, c.opened());
        if (opened > 0) addDefect(r, `agent side, ${c.name}: ${opened} session(s) opened`);
        else ctx.log(`agent side, ${c.name}: refused (${res.error})`);
      }
      const foreign = other.client('gw-s4');
      const old = pki.client('gw-old', { notBefore: new Date(Date.now() - 3 * DAY), days: 1 });
      const early = pki.client('gw-early', { notBefore: new Date(Date.now() + 2 * DAY), days: 30 });
      const ca = readFileSync(pki.caFile);
      const clientCases: { name: string; url: string; opts: Record<string, unknown> }[] = [
        {
          name: 'client certificate from another CA',
          url: good.url,
          opts: { ca, cert: readFileSync(foreign.cert), key: readFileSync(foreign.key) },
        },
        { name: 'no client certificate', url: good.url, opts: { ca } },
        {
          name: 'expired client certificate',
          url: good.url,
          opts: { ca, cert: readFileSync(old.cert), key: readFileSync(old.key) },
        },
        {
          name: 'client certificate not yet valid',
          url: good.url,
          opts: { ca, cert: readFileSync(early.cert), key: readFileSync(early.key) },
        },
        {
          name: 'client speaking only TLS 1.1',
          url: good.url,
          opts: {
            ca,
            cert: readFileSync(device.cert),
            key: readFileSync(device.key),
            maxVersion: 'TLSv1.1',
            minVersion: 'TLSv1.1',
            ciphers: 'DEFAULT@SECLEVEL=0',
          },
        },
        { name: 'plaintext client', url: `mqtt://localhost:${good.port}`, opts: {} },
      ];
      const before = good
        .log()
        .split('\n')
        .filter((l) => l.includes('New client connected')).length;
      for (const c of clientCases) {
        r.cases++;
        if (await clientTries(c.url, c.opts)) addDefect(r, `broker side, ${c.name}: a session was opened`);
      }
      await sleep(500);
      const after = good
        .log()
        .split('\n')
        .filter((l) => l.includes('New client connected')).length;
      if (after !== before)
        addDefect(
          r,
          `broker side: the broker logged ${after - before} new session(s) for the refused clients`,
        );
      r.notes = `${agentCases.length} cases from the agent's side (its own MqttLink), ${clientCases.length} from the broker's (real Mosquitto), plus a control that connects`;
    } finally {
      for (const b of brokers) await b.kill();
      for (const s of servers) s.close();
    }
    return r;
  },
};

/** A server certificate on an RSA-1024 key, signed by the test CA (openssl: the pki code makes 2048-bit keys only). */
function weakServer(dir: string, pki: TestPki): { cert: string; key: string } {
  const caKey = pki.write('ca-for-weak.key', pki.ca.keyPem, 0o600);
  const key = join(dir, 'weak.key');
  const csr = join(dir, 'weak.csr');
  const cert = join(dir, 'weak.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-new',
      '-newkey',
      'rsa:1024',
      '-nodes',
      '-keyout',
      key,
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-out',
      csr,
    ],
    { stdio: 'ignore' },
  );
  const ext = join(dir, 'weak.ext');
  writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  execFileSync(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      pki.caFile,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-days',
      '30',
      '-extfile',
      ext,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
