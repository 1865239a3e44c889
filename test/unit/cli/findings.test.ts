import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { exitCodeOf, printFindings, type ShownFinding } from '../../../agent/src/cli/findings.js';
import type { Io } from '../../../agent/src/cli/io.js';
import { Severity } from '../../../agent/src/core/index.js';

function capture(findings: ShownFinding[]): string {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d) => {
    out += d;
  });
  const io: Io = { stdin: new PassThrough(), stdout, stderr: new PassThrough(), env: {}, isTty: false };
  printFindings(io, findings);
  return out;
}

describe('one renderer for check reports', () => {
  it("shows doctor's findings with timings and each problem's fix", () => {
    const out = capture([
      { id: 'tcp', status: 'pass', ms: 3, detail: 'broker:8883 accepts connections' },
      {
        id: 'ca-pin',
        status: 'fail',
        detail: 'ca.crt: no such file',
        fix: 'install the platform CA at mqtt.ca',
      },
      { id: 'acks', status: 'warn', detail: 'no collector key yet', fix: 'enroll --keys FILE' },
      { id: 'capabilities', status: 'not-applicable', detail: 'the daemon is not running' },
    ]);
    assert.match(out, /^check +result +time +detail$/m);
    assert.match(out, /^tcp +pass +3 ms +broker:8883 accepts connections$/m);
    assert.match(out, /^capabilities +not-applicable +the daemon is not running$/m);
    assert.match(out, /^FAIL ca-pin\n {2}fix: install the platform CA at mqtt\.ca$/m);
    assert.match(out, /^WARN acks\n {2}fix: enroll --keys FILE$/m);
    assert.doesNotMatch(out, /severity/, 'no severity column when no check has one');
  });

  it("shows the audit's outcomes with severity, title, evidence and the standing remedy", () => {
    const out = capture([
      {
        id: 'ssh.root_login',
        status: 'fail',
        severity: Severity.HIGH,
        title: 'root cannot log in over SSH',
        remedy: 'set PermitRootLogin no',
        detail: 'PermitRootLogin yes',
        evidence: [{ file: '/etc/ssh/sshd_config', line: 12, text: 'PermitRootLogin yes' }],
      },
      { id: 'firewall', status: 'pass', severity: Severity.MEDIUM, detail: 'nftables active', evidence: [] },
    ]);
    assert.match(out, /^check +severity +result +detail$/m);
    assert.match(out, /^ssh\.root_login +high +fail +PermitRootLogin yes$/m);
    assert.match(
      out,
      /^FAIL ssh\.root_login: root cannot log in over SSH\n {2}\/etc\/ssh\/sshd_config:12 {2}PermitRootLogin yes\n {2}fix: set PermitRootLogin no$/m,
    );
    assert.doesNotMatch(out, /time/, 'no time column when nothing is timed');
  });

  it('exits 2 on a failure or an unreadable input, 1 on a warning, else 0', () => {
    const f = (status: ShownFinding['status']): ShownFinding => ({ id: 'x', status, detail: '' });
    assert.equal(exitCodeOf([f('pass'), f('not-applicable')]), 0);
    assert.equal(exitCodeOf([f('pass'), f('warn')]), 1);
    assert.equal(exitCodeOf([f('warn'), f('not-readable')]), 2);
    assert.equal(exitCodeOf([f('fail')]), 2);
  });
});
