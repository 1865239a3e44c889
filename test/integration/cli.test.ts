import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, writeConfig } from '../helpers/agent.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

/** Every command and subcommand of edge-agent (the test below checks this against --help). */
const COMMANDS = [
  ['run'],
  ['enroll'],
  ['ingest'],
  ['status'],
  ['identity', 'init'],
  ['identity', 'show'],
  ['identity', 'rotate'],
  ['config', 'check'],
  ['privacy', 'report'],
  ['audit', '--no-probe'],
  ['inventory'],
  ['integrity', 'baseline'],
  ['integrity', 'verify'],
  ['logs'],
  ['doctor'],
  ['maintenance', '--minutes', '5'],
  ['sync-now'],
  ['sbom'],
  ['wipe', '--yes'],
];
const PKI = join(repoRoot, 'dist/scripts/pki/main.js');
const SIGN = join(repoRoot, 'dist/scripts/sign/main.js');
const DEMO = join(repoRoot, 'dist/scripts/demo/main.js');
const TOOLS = [
  [PKI, 'ca'],
  [PKI, 'server'],
  [PKI, 'sign-csr'],
  [PKI, 'client'],
  [SIGN, 'keygen'],
  [SIGN, 'keys'],
  [SIGN, 'config'],
  [SIGN, 'profiles'],
  [DEMO],
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program; with `closeStdout` its stdout is a pipe nobody reads (`| head` that has exited). */
function exec(args: string[], opts: { input?: string; closeStdout?: boolean } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    if (opts.closeStdout) c.stdout.destroy();
    else c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.stdin.on('error', () => undefined);
    c.stdin.end(opts.input ?? '');
    const kill = setTimeout(() => c.kill('SIGKILL'), 120_000);
    c.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}
const cli = (args: string[], opts?: { input?: string; closeStdout?: boolean }) => exec([BIN, ...args], opts);

/** The bar for every run: no stack trace, an exit code of the contract. */
function clean(what: string, r: Run): void {
  const text = `${r.stdout}${r.stderr}`;
  assert.doesNotMatch(text, /^ {4}at /m, `${what} printed a stack trace:\n${text}`);
  assert.doesNotMatch(r.stderr, /EPIPE|ERR_MODULE_NOT_FOUND|Unhandled/, `${what}:\n${r.stderr}`);
  assert.ok(r.code === 0 || r.code === 1 || r.code === 2, `${what} exited ${r.code}:\n${text}`);
}

/** A few at a time: the commands are independent, and the machine is shared. */
async function each<T>(items: T[], f: (x: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let x = queue.shift(); x !== undefined; x = queue.shift()) await f(x);
    }),
  );
}

describe('the command line never shows a stack trace', () => {
  const t = tempDir();
  let config = '';
  before(async () => {
    config = writeConfig(join(t.dir, 'gw'), {
      integrity: { paths: [join(t.dir, 'gw', 'watched.txt')] },
      log: { level: 'warn', file: join(t.dir, 'gw', 'agent.log') },
    });
    writeFileSync(join(t.dir, 'gw', 'watched.txt'), 'x');
    writeFileSync(join(t.dir, 'gw', 'agent.log'), '{"level":30,"time":1,"msg":"first"}\n');
    assert.equal((await cli(['identity', 'init', '--config', config])).code, 0);
    assert.equal((await cli(['integrity', 'baseline', '--config', config])).code, 0);
  });
  after(() => t.cleanup());

  it('the top-level help lists exactly the commands and subcommands there are', async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0);
    const listed = r.stdout
      .split('Commands:\n')[1]
      .split('\n\n')[0]
      .split('\n')
      .map((l) =>
        l
          .trim()
          .split(/\s{2,}/)[0]
          .replace(/ \[.*$/, '')
          .replace(/ --.*$/, ''),
      );
    const expected = COMMANDS.map((c) => c.filter((a) => !a.startsWith('-') && !/^\d+$/.test(a)).join(' '));
    assert.deepEqual([...listed].sort(), [...expected].sort());
    assert.match((await cli(['identity', '--help'])).stdout, /identity <init\|show\|rotate>/);
  });

  it('--help of every command, subcommand and tool: exit 0, text on stdout', async () => {
    await each([...COMMANDS.map((c) => [BIN, ...c]), ...TOOLS], async (c) => {
      const r = await exec([...c, '--help']);
      clean(c.join(' '), r);
      assert.equal(r.code, 0, c.join(' '));
      assert.match(r.stdout, /Usage/, c.join(' '));
    });
  });

  it('a missing config: one line naming the file, exit 2; with --json an error object on stdout', async () => {
    const missing = join(t.dir, 'nowhere', 'config.json');
    await each(COMMANDS, async (c) => {
      const r = await cli([...c, '--config', missing]);
      clean(c.join(' '), r);
      const j = await cli([...c, '--config', missing, '--json']);
      clean(`${c.join(' ')} --json`, j);
      if (c[0] === 'audit' || c[0] === 'inventory') return; // they work without a config
      assert.equal(r.code, 2, c.join(' '));
      assert.ok(`${r.stdout}${r.stderr}`.includes(missing), `${c.join(' ')} names the file`);
      assert.equal(j.code, 2);
      const out = JSON.parse(j.stdout) as { error?: { code: string; message: string } };
      if (c[0] === 'doctor') return; // its report lists the config check as failed
      assert.equal(out.error?.code, 'CONFIG_INVALID', `${c.join(' ')}: ${j.stdout}`);
      assert.match(out.error?.message ?? '', /no such file/);
    });
  });

  it('stdout closed early (| head): every command ends quietly with its own exit code', async () => {
    const text: string[][] = [
      ['config', 'check'],
      ['audit', '--no-probe'],
      ['doctor'],
      ['integrity', 'verify'],
      ['status'],
      ['identity', 'show'],
      ['privacy', 'report'],
      ['inventory'],
      ['logs'],
      ['logs', '-f'],
    ];
    await each([...text, ...text.map((c) => [...c, '--json'])], async (c) => {
      const r = await cli([...c, '--config', config], { closeStdout: true });
      clean(`${c.join(' ')} | head`, r);
    });
    await each([...COMMANDS.map((c) => [BIN, ...c]), ...TOOLS], async (c) => {
      clean(`${c.join(' ')} --help | head`, await exec([...c, '--help'], { closeStdout: true }));
    });
    // The exit code is the command's own, not the pipe's.
    writeFileSync(join(t.dir, 'gw', 'watched.txt'), 'changed');
    assert.equal((await cli(['integrity', 'verify', '--config', config], { closeStdout: true })).code, 1);
    writeFileSync(join(t.dir, 'gw', 'watched.txt'), 'x');
  });

  it('output folders that do not exist: created 0700, keys 0600, or one line naming the path', async () => {
    const deep = join(t.dir, 'not', 'yet');
    const cfg = writeConfig(join(t.dir, 'fresh'), { storage: { dir: join(deep, 'data') } });
    const init = await cli(['identity', 'init', '--config', cfg]);
    clean('identity init', init);
    assert.equal(init.code, 0, init.stderr);
    assert.equal(statSync(join(deep, 'data', 'identity', 'signing.key')).mode & 0o777, 0o600);
    await each(
      [
        ['status'],
        ['integrity', 'baseline'],
        ['integrity', 'verify'],
        ['logs', '--file', join(deep, 'x.log')],
      ],
      async (c) => clean(c.join(' '), await cli([...c, '--config', cfg])),
    );

    const keys = join(t.dir, 'ops', 'keys');
    const kg = await exec([SIGN, 'keygen', '--name', 'root', '--out', keys]);
    clean('sign keygen', kg);
    assert.equal(kg.code, 0, kg.stderr);
    assert.equal(statSync(join(t.dir, 'ops')).mode & 0o777, 0o700);
    assert.equal(statSync(keys).mode & 0o777, 0o700);
    assert.equal(statSync(join(keys, 'root.key')).mode & 0o777, 0o600);
    const again = await exec([SIGN, 'keygen', '--name', 'root', '--out', keys]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /root\.key exists; pass --force/);
    chmodSync(join(keys, 'root.key'), 0o644);
    const forced = await exec([SIGN, 'keygen', '--name', 'root', '--out', keys, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(statSync(join(keys, 'root.key')).mode & 0o777, 0o600, 'a rewritten key is 0600 again');

    const ca = join(t.dir, 'pki', 'ca');
    const made = await exec([PKI, 'ca', '--out', ca]);
    clean('pki ca', made);
    assert.equal(made.code, 0, made.stderr);
    assert.equal(statSync(ca).mode & 0o777, 0o700);
    assert.equal(statSync(join(ca, 'ca.key')).mode & 0o777, 0o600);
    chmodSync(join(ca, 'ca.key'), 0o640);
    const srv = await exec([
      PKI,
      'client',
      '--ca',
      ca,
      '--cn',
      'gw-1',
      '--out',
      join(t.dir, 'pki', 'new', 'gw'),
    ]);
    assert.equal(srv.code, 0, srv.stderr);
    assert.equal(statSync(join(t.dir, 'pki', 'new', 'gw', 'gw-1.key')).mode & 0o777, 0o600);
    assert.equal(
      (await exec([PKI, 'ca', '--out', ca, '--force'])).code,
      0,
      'a CA key replaced in place with --force',
    );
    assert.equal(statSync(join(ca, 'ca.key')).mode & 0o777, 0o600);

    // A path that cannot be a folder: one line naming it.
    writeFileSync(join(t.dir, 'a-file'), '');
    const bad = await exec([SIGN, 'keygen', '--name', 'x', '--out', join(t.dir, 'a-file', 'sub')]);
    clean('sign keygen into a file', bad);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^sign: .*a-file/);
    const badPki = await exec([PKI, 'server', '--ca', join(t.dir, 'no-ca'), '--out', join(t.dir, 'srv')]);
    clean('pki server without a CA', badPki);
    assert.equal(badPki.code, 2);
    assert.match(badPki.stderr, /^pki: .*no-ca/);
  });

  it('logs -f follows until Ctrl-C, across a rotation of the log file', async () => {
    const log = join(t.dir, 'gw', 'follow.log');
    writeFileSync(log, '{"level":30,"time":1,"msg":"before"}\n');
    const c = spawn(process.execPath, [BIN, 'logs', '-f', '--file', log], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    let exited = false;
    c.on('exit', () => (exited = true));
    await waitFor(() => out.includes('before'), 'the last lines');
    writeFileSync(log, '{"level":30,"time":1,"msg":"before"}\n{"level":40,"time":2,"msg":"appended"}\n');
    await waitFor(() => out.includes('appended'), 'the appended line');
    renameSync(log, `${log}.1`);
    writeFileSync(log, '{"level":50,"time":3,"msg":"after rotation"}\n');
    await waitFor(() => out.includes('after rotation'), 'the line of the new file');
    assert.equal(exited, false, 'still following');
    const code = new Promise((resolve) => c.on('close', resolve));
    c.kill('SIGINT');
    assert.equal(await code, 0);
    assert.match(out, /WARN {2}appended/);
    assert.match(out, /ERROR after rotation/);
  });

  it('config check refuses what run refuses: plaintext MQTT and the installer placeholders', async () => {
    const plain = writeConfig(join(t.dir, 'plain'), {
      mqtt: { url: 'mqtt://localhost:1883', ca: 'ca.crt', cert: 'gw.crt', key: 'gw.key' },
    });
    const r = await cli(['config', 'check', '--config', plain]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /mqtt\.url: plaintext MQTT is refused/);
    const run = await cli(['run', '--config', plain]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /mqtt\.url: plaintext MQTT is refused/);
    const dev = writeConfig(join(t.dir, 'bench'), {
      mqtt: {
        url: 'mqtt://localhost:1883',
        ca: 'ca.crt',
        cert: 'gw.crt',
        key: 'gw.key',
        insecurePlaintextForDevelopment: true,
      },
    });
    assert.equal((await cli(['config', 'check', '--config', dev])).code, 0);
    const tpl = writeConfig(join(t.dir, 'tpl'), { device: { id: 'CHANGE-ME' } });
    const j = await cli(['config', 'check', '--config', tpl, '--json']);
    assert.equal(j.code, 2);
    const out = JSON.parse(j.stdout) as { valid: boolean; errors: { path: string; message: string }[] };
    assert.equal(out.valid, false);
    assert.deepEqual(
      out.errors.map((e) => e.path),
      ['device.id'],
    );
    assert.match(out.errors[0].message, /CHANGE-ME is the installer's placeholder/);
  });

  it('npm start and the tools say in one line what is missing, never a stack', async () => {
    assert.ok(existsSync(join(repoRoot, 'scripts', 'launch.mjs')));
    const bad = await exec([join(repoRoot, 'scripts', 'launch.mjs'), 'start', '--rate', 'fast']);
    clean('npm start --rate fast', bad);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--rate must be a positive number/);
    const unknown = await exec([DEMO, '--nope']);
    clean('demo --nope', unknown);
    assert.equal(unknown.code, 2);
    assert.match(
      readFileSync(join(repoRoot, 'package.json'), 'utf8'),
      /"prepare": "node scripts\/build.mjs --prepare"/,
    );
  });
});
