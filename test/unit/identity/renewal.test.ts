import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock, silentLogger } from '../../../agent/src/core/index.js';
import { CertRenewal, makeCsr, makeTlsKey, writeFileAtomic } from '../../../agent/src/identity/index.js';
import { type PairFs, realPairFs } from '../../../agent/src/identity/pair-swap.js';
import { createCa, type Issued, signCsr } from '../../../scripts/pki/lib.js';
import { testSigner } from '../../helpers/keys.js';
import { tempDir } from '../../helpers/paths.js';

const DAY = 86_400_000;

class Crash extends Error {}

/** The real file operations, with a crash (a throw) before operation number `at`. */
function crashingFs(at: number): PairFs & { ops: number } {
  const w = { ops: 0 } as PairFs & { ops: number };
  for (const [name, fn] of Object.entries(realPairFs)) {
    const read = name === 'exists' || name === 'read' || name === 'readJson';
    (w as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
      if (!read && w.ops++ === at) throw new Crash(`crash before ${name} ${String(a[0])}`);
      return (fn as (...x: unknown[]) => unknown)(...a);
    };
  }
  return w;
}

/** A gateway's folder: the current pair (80% of its life gone) and a pending renewal key. */
interface Gateway {
  dir: string;
  cert: string;
  key: string;
  oldSerial: string;
  newChain: string;
  newSerial: string;
}

describe('certificate renewal: the key and certificate swap as one unit', () => {
  const t = tempDir();
  let ca: Issued;
  let n = 0;
  const signer = testSigner();
  before(() => {
    ca = createCa();
    writeFileSync(join(t.dir, 'ca.crt'), ca.certPem);
  });
  after(() => t.cleanup());

  async function gateway(): Promise<Gateway> {
    const dir = join(t.dir, `gw${n++}`);
    const oldKey = makeTlsKey();
    const oldChain = signCsr(ca, await makeCsr(oldKey, 'gw-a'), {
      notBefore: new Date(Date.now() - 20 * DAY),
      days: 25,
    });
    writeFileAtomic(join(dir, 'gw.key'), oldKey, 0o600);
    writeFileAtomic(join(dir, 'gw.crt'), oldChain, 0o644);
    const newKey = makeTlsKey();
    writeFileAtomic(join(dir, 'gw.key.next'), newKey, 0o600);
    const newChain = signCsr(ca, await makeCsr(newKey, 'gw-a'));
    return {
      dir,
      cert: join(dir, 'gw.crt'),
      key: join(dir, 'gw.key'),
      oldSerial: new X509Certificate(oldChain).serialNumber,
      newChain,
      newSerial: new X509Certificate(newChain).serialNumber,
    };
  }

  function renewal(
    g: Gateway,
    over: { fs?: PairFs; linkError?: () => string | null; clock?: ManualClock } = {},
  ) {
    const seen = { csrs: [] as string[], events: [] as string[], reconnects: 0 };
    const r = new CertRenewal({
      deviceId: 'gw-a',
      certFile: g.cert,
      keyFile: g.key,
      caFile: join(t.dir, 'ca.crt'),
      stateDir: join(g.dir, 'data'),
      renewAt: 2 / 3,
      signing: () => ({ privateKey: signer.privateKey, publicKey: signer.raw, keyId: signer.keyId }),
      clockTrusted: () => true,
      sendCsr: (p) => seen.csrs.push(p) > 0,
      reconnect: () => seen.reconnects++,
      linkError: over.linkError ?? (() => null),
      raise: (type) => seen.events.push(type),
      clock: over.clock ?? new ManualClock(Date.now()),
      log: silentLogger(),
      fs: over.fs,
    });
    return { r, seen };
  }

  /** Which pair is on disk; fails if the key and the certificate do not belong together. */
  function pairOnDisk(g: Gateway): 'old' | 'new' {
    const cert = new X509Certificate(readFileSync(g.cert));
    assert.ok(cert.checkPrivateKey(createPrivateKey(readFileSync(g.key))), 'the key matches the certificate');
    assert.ok([g.oldSerial, g.newSerial].includes(cert.serialNumber));
    return cert.serialNumber === g.newSerial ? 'new' : 'old';
  }

  it('a crash before any file operation of the swap, or of the restart that follows, leaves a matching pair', async () => {
    const g0 = await gateway();
    const full = crashingFs(Number.POSITIVE_INFINITY);
    assert.equal(renewal(g0, { fs: full }).r.onIssued(g0.newChain).accepted, true);
    assert.equal(pairOnDisk(g0), 'new');
    const steps = full.ops;
    assert.ok(steps >= 6, `${steps} operations in a swap`);
    const outcomes: string[] = [];
    for (let at = 0; at < steps; at++) {
      const g = await gateway();
      assert.throws(() => renewal(g, { fs: crashingFs(at) }).r.onIssued(g.newChain), Crash);
      // The restart itself may crash too: at each of its operations, then a clean restart.
      for (let again = 0; again < 4; again++) {
        try {
          await renewal(g, { fs: crashingFs(again) }).r.start();
          break;
        } catch (e) {
          if (!(e instanceof Crash)) throw e;
        }
      }
      const after = renewal(g);
      await after.r.start();
      await after.r.stop();
      const which = pairOnDisk(g);
      outcomes.push(which);
      // Committed or not, nothing is left that a later start would misread.
      const debris = readdirSync(g.dir).filter((f) => f.endsWith('.prev') || f === 'gw.crt.next');
      if (which === 'old') assert.deepEqual(debris, [], `crash at ${at}: ${debris.join(', ')}`);
      else assert.equal(existsSync(join(g.dir, 'data/cert-swap.json')), true, 'on probation until a session');
    }
    assert.ok(outcomes.includes('old') && outcomes.includes('new'), outcomes.join(' '));
    // Once the journal is written the swap happens: every later crash ends on the new pair.
    assert.deepEqual(
      outcomes,
      [...outcomes].sort((a, b) => (a === b ? 0 : a === 'new' ? 1 : -1)),
    );
  });

  it('a new pair that the broker refuses is rolled back; one that opens a session is kept', async () => {
    const g = await gateway();
    let code: string | null = 'TCP_REFUSED';
    const clock = new ManualClock(Date.now());
    const { r, seen } = renewal(g, { clock, linkError: () => code });
    assert.equal(r.onIssued(g.newChain).accepted, true);
    assert.equal(pairOnDisk(g), 'new');
    clock.advance(10 * 60_000);
    assert.equal(pairOnDisk(g), 'new', 'a broker that is away is waited for');
    code = 'CLIENT_CERT_REFUSED';
    clock.advance(3 * 60_000);
    assert.equal(pairOnDisk(g), 'old');
    assert.ok(seen.events.includes('cert.rolled_back'), seen.events.join());
    assert.equal(seen.reconnects, 2, 'reconnected with the new pair, then with the old one');
    assert.deepEqual(
      readdirSync(g.dir).filter((f) => f.includes('.prev') || f.endsWith('.next')),
      [],
    );

    const g2 = await gateway();
    const k = renewal(g2, { clock, linkError: () => 'CLIENT_CERT_REFUSED' });
    assert.equal(k.r.onIssued(g2.newChain).accepted, true);
    k.r.onUp();
    clock.advance(10 * 60_000);
    assert.equal(pairOnDisk(g2), 'new');
    assert.deepEqual(
      readdirSync(g2.dir).filter((f) => f.endsWith('.prev')),
      [],
    );
    assert.ok(!k.seen.events.includes('cert.rolled_back'));
  });

  it('a reset or other transport error after a renewal never rolls the new pair back', async () => {
    for (const flaky of ['CONNECTION_RESET', 'CONNACK_TIMEOUT', 'NETWORK_UNREACHABLE', 'LINK_ERROR']) {
      const g = await gateway();
      const clock = new ManualClock(Date.now());
      const { r, seen } = renewal(g, { clock, linkError: () => flaky });
      assert.equal(r.onIssued(g.newChain).accepted, true);
      clock.advance(30 * 60_000);
      assert.equal(pairOnDisk(g), 'new', `${flaky} is not a refusal`);
      assert.ok(!seen.events.includes('cert.rolled_back'), flaky);
      assert.equal(seen.reconnects, 1, 'only the reconnect with the new pair');
      await r.stop();
    }
  });

  it('a CSR never answered is sent again after the timeout', async () => {
    const g = await gateway();
    const clock = new ManualClock(Date.now());
    const { r, seen } = renewal(g, { clock });
    await r.start();
    await waitUntil(() => seen.csrs.length === 1);
    clock.advance(10 * 60_000);
    await settle();
    assert.equal(seen.csrs.length, 1, 'not before the timeout');
    clock.advance(6 * 60_000);
    await waitUntil(() => seen.csrs.length === 2);
    const csr = (p: string) =>
      JSON.parse(Buffer.from(JSON.parse(p).signed, 'base64').toString()).csr as string;
    assert.equal(csr(seen.csrs[0]), csr(seen.csrs[1]), 'the same key is asked for again');
    await r.stop();
  });

  it('a journal torn or rotten mid-swap still completes the swap: never a new certificate beside the old key', async () => {
    for (const rot of ['', '{"phase":"forw', 'null']) {
      const g = await gateway();
      // Killed after the certificate's rename, before the key's: then the journal rots.
      assert.throws(() => renewal(g, { fs: crashingFs(5) }).r.onIssued(g.newChain), Crash);
      const journal = join(g.dir, 'data', 'cert-swap.json');
      writeFileSync(journal, rot);
      await renewal(g).r.start();
      assert.equal(pairOnDisk(g), 'new', `journal ${JSON.stringify(rot)}`);
      assert.deepEqual(JSON.parse(readFileSync(journal, 'utf8')), { phase: 'forward', serial: g.newSerial });
      assert.ok(existsSync(`${g.key}.prev`), 'the previous pair is kept until the new one opens a session');
    }
  });

  it('a certificate that cannot be parsed raises cert.unreadable, once', async () => {
    const g = await gateway();
    writeFileSync(g.cert, '-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n');
    const clock = new ManualClock(Date.now());
    const { r, seen } = renewal(g, { clock });
    await r.start();
    clock.advance(3 * 3_600_000);
    assert.deepEqual(seen.events, ['cert.unreadable']);
    await r.stop();
  });
});

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

async function waitUntil(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), 'condition not reached in 5 s');
}
