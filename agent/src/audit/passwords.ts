import { spawn } from 'node:child_process';

/**
 * Well-known vendor and distribution defaults an attacker tries first
 * (Raspberry Pi OS before 2022 shipped pi/raspberry).
 */
export const VENDOR_DEFAULTS = [
  'raspberry',
  'root',
  'admin',
  'password',
  'toor',
  'pi',
  'ubnt',
  'default',
  '1234',
  '12345',
  '123456',
  'changeme',
  'dietpi',
  'debian',
  'ubuntu',
  'user',
  'guest',
  'support',
  'service',
  'admin123',
];

/** Far below systemd's `WatchdogSec=30`; the event loop stays free meanwhile (the check is asynchronous). */
export const CRYPT_TIMEOUT_MS = 10_000;

/**
 * Which (candidate, hash) pairs match, computed by the system's libcrypt through
 * Perl's `crypt` (Node's crypto has no yescrypt, the scheme of Debian 12 and
 * Raspberry Pi OS). One Perl process checks every pair, off the event loop: a
 * yescrypt hash costs tens of ms on a Pi. Resolves to why not when Perl is
 * missing, fails or runs past `timeoutMs`, so the check can say so instead of passing.
 */
export function cryptMatches(
  pairs: { candidate: string; hash: string }[],
  timeoutMs = CRYPT_TIMEOUT_MS,
): Promise<boolean[] | { error: string }> {
  if (pairs.length === 0) return Promise.resolve([]);
  const input = pairs.map((p) => `${Buffer.from(p.candidate).toString('hex')}\t${p.hash}`).join('\n');
  const script =
    'while(<STDIN>){chomp;my($c,$h)=split(/\\t/,$_,2);my $p=pack("H*",$c);my $r=crypt($p,$h);print((defined $r && $r eq $h)?"1\\n":"0\\n");}';
  return new Promise((resolve) => {
    const child = spawn('perl', ['-e', script], { stdio: ['pipe', 'pipe', 'ignore'], timeout: timeoutMs });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stdin.on('error', () => {}); // Perl gone early: 'close' says why.
    child.stdin.end(input);
    child.on('error', (e) => resolve({ error: `perl with libcrypt is needed (${e.message})` }));
    child.on('close', (code, signal) => {
      if (signal) resolve({ error: `hashing took longer than ${timeoutMs / 1000} s and was stopped` });
      else if (code !== 0) resolve({ error: `perl exited with code ${code}` });
      else {
        const lines = out.trim().split('\n');
        resolve(pairs.map((_, i) => lines[i] === '1'));
      }
    });
  });
}
