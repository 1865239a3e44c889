import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../scripts/lib/mosquitto.js';
import { BIN } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import { World } from '../helpers/world.js';

const SSHD = existsSync('/usr/sbin/sshd') ? '/usr/sbin/sshd' : 'sshd';

describe('a technician diagnoses the cabinet over SSH', () => {
  const w = new World();
  const dir = join(w.t.dir, 'ssh');
  let sshd: ChildProcess | undefined;
  let port = 0;
  before(async () => {
    await w.setup();
    await w.broker.start();
    await w.startCollector();
    await w.startAgent();
    mkdirSync(dir);
    mkdirSync('/run/sshd', { recursive: true });
    for (const k of ['host', 'tech'])
      spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, k)]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'tech.pub')));
    port = await freePort();
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'StrictModes no',
        'UsePAM no',
        '',
      ].join('\n'),
    );
    sshd = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' });
    await waitFor(() => ssh(['true']).status === 0, 'sshd to accept the technician', 15_000, 200);
  });
  after(async () => {
    sshd?.kill('SIGKILL');
    await w.close();
  });

  function ssh(command: string[]) {
    return spawnSync(
      'ssh',
      [
        '-p',
        String(port),
        '-i',
        join(dir, 'tech'),
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'LogLevel=ERROR',
        'root@127.0.0.1',
        ...command,
      ],
      { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
  }
  const agent = (...args: string[]) => ssh([process.execPath, BIN, ...args, '--config', w.config]);

  it('status --json over a non-interactive SSH session', () => {
    assert.equal(w.ingest(Array.from({ length: 100 }, (_, i) => i)).code, 0);
    const r = agent('status', '--json');
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.running, true);
    assert.equal(s.deviceId, 'gw-test');
    assert.equal(s.link.state, 'connected');
    assert.match(s.identity.keyId, /^[0-9a-f]{16}$/);
    assert.ok(s.identity.certificate.validTo);
    const human = agent('status');
    assert.match(human.stdout, /^device: {2}gw-test {3}daemon: running/m);
    assert.match(human.stdout, /^link: {4}connected/m);
    assert.ok(!human.stdout.includes('\u001b['), 'no colours or cursor codes without a terminal');
  });

  it('doctor checks the whole path with timings and exits by its worst finding', () => {
    const r = agent('doctor', '--json');
    const d = JSON.parse(r.stdout);
    const by = Object.fromEntries(d.checks.map((c: { id: string }) => [c.id, c]));
    for (const c of [
      'config',
      'signing-key',
      'tls-key',
      'ca-pin',
      'certificate',
      'dns',
      'tcp',
      'tls',
      'mqtt',
      'disk',
      'sqlite',
      'buffer-age',
    ]) {
      assert.equal(by[c]?.status, 'pass', `${c}: ${JSON.stringify(by[c])}`);
    }
    assert.ok(by.tls.ms >= 0 && by.mqtt.ms >= 0);
    assert.equal(r.status, d.result === 'pass' ? 0 : d.result === 'warn' ? 1 : 2);
    const human = agent('doctor');
    assert.match(human.stdout, /^mqtt +pass +\d+ ms +CONNECT accepted/m);
  });

  it('forces a sync through admin.sock', () => {
    const r = agent('sync-now', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { connected: true, link: 'connected' });
  });

  it('refuses to wipe without a terminal or --yes, and the failure shows in doctor', () => {
    const r = agent('wipe');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /refusing without --yes/);
    w.writeAgentConfig({}, { ca: join(w.t.dir, 'nope.crt') });
    const bad = agent('doctor');
    assert.equal(bad.status, 2);
    assert.match(bad.stdout, /^ca-pin +fail/m);
    assert.match(bad.stdout, /^FAIL ca-pin\n {2}fix: install the platform CA at mqtt\.ca$/m);
    w.writeAgentConfig();
  });
});
