import { Severity } from '../core/index.js';
import { fail, na, pass, unreadable } from './files.js';
import { readSshd } from './sshd.js';
import type { AuditContext, Check, CheckResult } from './types.js';

/** A check on sshd's effective settings, with OpenSSH's defaults for what is unset. */
function sshCheck(
  c: Omit<Check, 'run'>,
  judge: (
    get: (k: string, dflt: string) => { value: string; ev?: { file: string; line?: number; text: string } },
  ) => CheckResult,
): Check {
  return {
    ...c,
    run({ root }: AuditContext) {
      const cfg = readSshd(root);
      if (cfg.unreadable.length && !cfg.found) return unreadable(cfg.unreadable[0]);
      if (!cfg.found) return na('no sshd configuration');
      return judge((k, dflt) => {
        const v = cfg.values.get(k.toLowerCase());
        return v ? { value: v.value, ev: v.evidence } : { value: dflt };
      });
    },
  };
}

const unsetNote = (file = '/etc/ssh/sshd_config', what: string) => ({
  file,
  text: `${what} (not set: OpenSSH's default applies)`,
});

export const sshRootLogin = sshCheck(
  {
    id: 'ssh.root-login',
    title: 'SSH does not allow root to log in with a password',
    severity: Severity.HIGH,
    rationale: 'Root is the one account name every attacker knows.',
    remedy: 'Set `PermitRootLogin no` in /etc/ssh/sshd_config and log in as a named technician.',
    etsi: ['5.1-1', '5.5-1'],
    iec: ['CR 1.1', 'CR 2.1'],
  },
  (get) => {
    const v = get('PermitRootLogin', 'prohibit-password');
    const ev = [v.ev ?? unsetNote(undefined, 'PermitRootLogin prohibit-password')];
    return v.value.toLowerCase() === 'yes'
      ? fail('root may log in with a password', ev)
      : pass(`PermitRootLogin ${v.value}`, ev);
  },
);

export const sshPasswordAuth = sshCheck(
  {
    id: 'ssh.password-auth',
    title: 'SSH accepts keys only, not passwords',
    severity: Severity.HIGH,
    rationale: 'Password logins on an exposed cabinet invite brute force; keys do not.',
    remedy:
      "Set `PasswordAuthentication no` and `KbdInteractiveAuthentication no`, with technicians' keys in authorized_keys.",
    etsi: ['5.1-5'],
    iec: ['CR 1.5', 'CR 1.11'],
  },
  (get) => {
    const v = get('PasswordAuthentication', 'yes');
    const ev = [v.ev ?? unsetNote(undefined, 'PasswordAuthentication yes')];
    return v.value.toLowerCase() === 'no'
      ? pass('password logins are off', ev)
      : fail('password logins are allowed', ev);
  },
);

export const sshEmptyPasswords = sshCheck(
  {
    id: 'ssh.empty-passwords',
    title: 'SSH refuses empty passwords',
    severity: Severity.CRITICAL,
    rationale: 'An account with an empty password would be open to anyone.',
    remedy: 'Set `PermitEmptyPasswords no` (the default) in /etc/ssh/sshd_config.',
    etsi: ['5.1-1'],
    iec: ['CR 1.7'],
  },
  (get) => {
    const v = get('PermitEmptyPasswords', 'no');
    const ev = [v.ev ?? unsetNote(undefined, 'PermitEmptyPasswords no')];
    return v.value.toLowerCase() === 'yes'
      ? fail('empty passwords are permitted', ev)
      : pass('empty passwords are refused', ev);
  },
);

export const sshMaxAuthTries = sshCheck(
  {
    id: 'ssh.max-auth-tries',
    title: 'SSH allows at most 4 authentication attempts per connection',
    severity: Severity.MEDIUM,
    rationale: 'Fewer attempts per connection slow down guessing.',
    remedy: 'Set `MaxAuthTries 3` in /etc/ssh/sshd_config.',
    etsi: ['5.1-5'],
    iec: ['CR 1.11'],
  },
  (get) => {
    const v = get('MaxAuthTries', '6');
    const n = Number(v.value);
    const ev = [v.ev ?? unsetNote(undefined, 'MaxAuthTries 6')];
    return Number.isFinite(n) && n <= 4 ? pass(`MaxAuthTries ${n}`, ev) : fail(`MaxAuthTries ${v.value}`, ev);
  },
);

const WEAK =
  /(^|,)[^,]*(3des|arcfour|blowfish|cast128|-cbc|hmac-md5|hmac-sha1(?!-etm@)|umac-64|diffie-hellman-group1-sha1|diffie-hellman-group14-sha1|diffie-hellman-group-exchange-sha1)[^,]*/i;

export const sshCrypto = sshCheck(
  {
    id: 'ssh.crypto',
    title: 'SSH uses protocol 2 and no weak ciphers, MACs or key exchanges',
    severity: Severity.MEDIUM,
    rationale: 'CBC modes, RC4, MD5/SHA-1 MACs and group1/14-sha1 key exchange are broken or deprecated.',
    remedy:
      "Remove the `Protocol`, `Ciphers`, `MACs` and `KexAlgorithms` lines to use OpenSSH's defaults, or list only modern algorithms.",
    etsi: ['5.5-1'],
    iec: ['CR 4.3'],
  },
  (get) => {
    const bad = [];
    const proto = get('Protocol', '2');
    if (proto.ev && proto.value.split(',').includes('1')) bad.push(proto.ev);
    for (const k of ['Ciphers', 'MACs', 'KexAlgorithms']) {
      const v = get(k, '');
      if (v.ev && WEAK.test(v.value)) bad.push(v.ev);
    }
    return bad.length
      ? fail('weak SSH cryptography is enabled', bad)
      : pass('protocol 2 with no weak algorithms configured');
  },
);
