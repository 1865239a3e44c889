import { spawnSync } from 'node:child_process';

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

/**
 * Which (candidate, hash) pairs match, computed by the system's libcrypt through
 * Perl's `crypt` (Node's crypto has no yescrypt, the scheme of Debian 12 and
 * Raspberry Pi OS). One Perl process checks every pair. Returns null when Perl
 * is missing, so the check can say so instead of passing.
 */
export function cryptMatches(pairs: { candidate: string; hash: string }[]): boolean[] | null {
  if (pairs.length === 0) return [];
  const input = pairs.map((p) => `${Buffer.from(p.candidate).toString('hex')}\t${p.hash}`).join('\n');
  const script =
    'while(<STDIN>){chomp;my($c,$h)=split(/\\t/,$_,2);my $p=pack("H*",$c);my $r=crypt($p,$h);print((defined $r && $r eq $h)?"1\\n":"0\\n");}';
  const r = spawnSync('perl', ['-e', script], { input, encoding: 'utf8', timeout: 120_000 });
  if (r.error || r.status !== 0) return null;
  const out = r.stdout.trim().split('\n');
  return pairs.map((_, i) => out[i] === '1');
}
