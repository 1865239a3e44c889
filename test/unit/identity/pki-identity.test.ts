import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  describeIdentity,
  IdentityExistsError,
  initIdentity,
  KeyPermissionError,
  loadSigningKey,
  ProvisionedPairError,
} from '../../../agent/src/identity/index.js';
import { createCa, issueClient, issueServer, signCsr } from '../../../scripts/pki/lib.js';
import { distTest, tempDir } from '../../helpers/paths.js';

describe('identity init and the pki script', () => {
  const t = tempDir();
  const paths = () => ({
    signingKey: join(t.dir, 'id', 'signing.key'),
    tlsKey: join(t.dir, 'id', 'tls.key'),
    csr: join(t.dir, 'id', 'tls.csr'),
  });
  after(() => t.cleanup());
  before(async () => {
    await initIdentity(paths(), 'gw-042');
  });

  it('creates the keys 0600 and a CSR whose CN is the device id', () => {
    const p = paths();
    assert.equal(statSync(p.signingKey).mode & 0o777, 0o600);
    assert.equal(statSync(p.tlsKey).mode & 0o777, 0o600);
    const subj = execFileSync('openssl', ['req', '-in', p.csr, '-noout', '-subject', '-verify'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.match(subj, /CN\s*=\s*gw-042/);
  });

  it('refuses to overwrite without force, and replaces the key with it', async () => {
    const before = loadSigningKey(paths().signingKey).keyId;
    await assert.rejects(initIdentity(paths(), 'gw-042'), IdentityExistsError);
    assert.equal(loadSigningKey(paths().signingKey).keyId, before);
    const replaced = await initIdentity(paths(), 'gw-042', true);
    assert.notEqual(replaced.identity.keyId, before);
  });

  it('keeps a provisioned TLS key and certificate, checks the pair and makes only the signing key', async () => {
    const ca = createCa('city PKI');
    const dir = join(t.dir, 'provisioned');
    mkdirSync(dir);
    const p = {
      signingKey: join(dir, 'signing.key'),
      tlsKey: join(dir, 'mqtt.key'),
      csr: join(dir, 'tls.csr'),
      cert: join(dir, 'mqtt.cert'),
      ca: join(dir, 'ca.crt'),
    };
    const put = (id: { certPem: string; keyPem: string }) => {
      writeFileSync(p.tlsKey, id.keyPem, { mode: 0o600 });
      writeFileSync(p.cert, id.certPem);
    };
    writeFileSync(p.ca, ca.certPem);
    const mine = issueClient(ca, 'gw-042');
    put(mine);
    const r = await initIdentity(p, 'gw-042');
    assert.deepEqual(r.created, [p.signingKey]);
    assert.deepEqual(r.kept, [p.tlsKey, p.cert]);
    assert.equal(readFileSync(p.tlsKey, 'utf8'), mine.keyPem, 'the provisioned key is untouched');
    assert.equal(existsSync(p.csr), false, 'no CSR: the certificate is already there');
    assert.equal(statSync(p.signingKey).mode & 0o777, 0o600);
    await assert.rejects(initIdentity(p, 'gw-042'), IdentityExistsError, 'a second init still refuses');

    const cases: [string, { certPem: string; keyPem: string }, RegExp][] = [
      ['another device', issueClient(ca, 'gw-043'), /WRONG_DEVICE/],
      ['another CA', issueClient(createCa('elsewhere'), 'gw-042'), /WRONG_CA/],
      [
        'a key of another pair',
        { certPem: mine.certPem, keyPem: issueClient(ca, 'gw-042').keyPem },
        /KEY_MISMATCH/,
      ],
    ];
    for (const [what, pair, problem] of cases) {
      rmSync(p.signingKey, { force: true });
      put(pair);
      await assert.rejects(
        initIdentity(p, 'gw-042'),
        (e: unknown) => e instanceof ProvisionedPairError && problem.test(e.message),
        what,
      );
      assert.equal(existsSync(p.signingKey), false, `${what}: nothing created`);
      assert.equal(readFileSync(p.tlsKey, 'utf8'), pair.keyPem, `${what}: nothing replaced`);
    }
  });

  it('refuses a private key readable by group or others, naming the file and the fix', () => {
    const p = paths();
    chmodSync(p.signingKey, 0o640);
    try {
      assert.throws(
        () => loadSigningKey(p.signingKey),
        (e: unknown) =>
          e instanceof KeyPermissionError &&
          e.message.includes(p.signingKey) &&
          e.message.includes('chmod 600'),
      );
    } finally {
      chmodSync(p.signingKey, 0o600);
    }
  });

  it('pki output passes openssl verify: CA, server and a signed device CSR', () => {
    const ca = createCa('test CA');
    const server = issueServer(ca);
    const client = signCsr(ca, readFileSync(paths().csr, 'utf8'), { expectCn: 'gw-042' });
    writeFileSync(join(t.dir, 'ca.crt'), ca.certPem);
    writeFileSync(join(t.dir, 'server.crt'), server.certPem);
    writeFileSync(join(t.dir, 'client.crt'), client);
    for (const [f, purpose] of [
      ['server.crt', 'sslserver'],
      ['client.crt', 'sslclient'],
    ]) {
      const r = spawnSync(
        'openssl',
        ['verify', '-purpose', purpose, '-CAfile', join(t.dir, 'ca.crt'), join(t.dir, f)],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /: OK/);
    }
    const s = new X509Certificate(server.certPem);
    assert.ok(s.checkHost('localhost'));
    assert.ok(s.checkIP('127.0.0.1'));
    assert.ok(s.verify(new X509Certificate(ca.certPem).publicKey));
    assert.throws(
      () => signCsr(ca, readFileSync(paths().csr, 'utf8'), { expectCn: 'gw-other' }),
      /expected gw-other/,
    );
  });

  it('the pki command line makes the same files', () => {
    const dir = join(t.dir, 'cli');
    const pki = join(distTest, '..', 'scripts', 'pki', 'main.js');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync(process.execPath, [pki, 'ca', '--out', dir]);
    execFileSync(process.execPath, [pki, 'server', '--ca', dir, '--out', dir]);
    execFileSync(process.execPath, [
      pki,
      'sign-csr',
      '--ca',
      dir,
      '--csr',
      paths().csr,
      '--out',
      join(dir, 'gw-042.crt'),
      '--cn',
      'gw-042',
    ]);
    assert.equal(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
    const r = spawnSync(
      'openssl',
      ['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'server.crt'), join(dir, 'gw-042.crt')],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const bad = spawnSync(process.execPath, [
      pki,
      'sign-csr',
      '--ca',
      dir,
      '--csr',
      paths().csr,
      '--out',
      join(dir, 'x.crt'),
      '--cn',
      'nope',
    ]);
    assert.equal(bad.status, 2);
  });

  it('identity show describes the key, the CSR and the installed certificate', () => {
    const ca = createCa('test CA');
    const cert = join(t.dir, 'installed.crt');
    writeFileSync(cert, signCsr(ca, readFileSync(paths().csr, 'utf8')));
    const info = describeIdentity('gw-042', { signingKey: paths().signingKey, csr: paths().csr, cert });
    const id = loadSigningKey(paths().signingKey);
    assert.equal(info.signingPublicKey, Buffer.from(id.publicKey).toString('base64'));
    assert.equal(info.keyId, id.keyId);
    assert.match(info.keyId, /^[0-9a-f]{16}$/);
    assert.match(info.csrPem ?? '', /BEGIN CERTIFICATE REQUEST/);
    assert.equal(info.certificate?.subject, 'CN=gw-042');
    assert.ok(Date.parse(info.certificate?.validTo ?? '') > Date.now());
  });
});
