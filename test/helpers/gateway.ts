import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { docKey, makeDoc, trustProfilesKey } from './trust.js';

const B64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A password hash made by the system's libcrypt (Perl's crypt), for fixture shadow files. */
export function cryptHash(password: string, scheme: 'y' | '6' | '1'): string {
  const salt = Array.from(randomBytes(22), (b) => B64[b % 64]).join('');
  const setting =
    scheme === 'y'
      ? `$y$j9T$${salt.slice(0, 16)}$` // 16 characters: every one is a whole 6-bit group, which yescrypt requires
      : scheme === '6'
        ? `$6$${salt.slice(0, 16)}$`
        : `$1$${salt.slice(0, 8)}$`;
  const r = spawnSync('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', password, setting], {
    encoding: 'utf8',
  });
  if (!r.stdout.startsWith('$')) throw new Error(`crypt failed for scheme ${scheme}`);
  return r.stdout;
}

const TCP_HEAD =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const tcpLine = (i: number, hexAddr: string, port: number) =>
  `   ${i}: ${hexAddr}:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 ${1000 + i} 1\n`;

/**
 * Writes a Raspberry Pi gateway's relevant files under `root`: `hardened`
 * passes every posture check, `careless` fails every one for a known reason.
 */
export function makeGateway(root: string, kind: 'hardened' | 'careless', caPem: string): void {
  const w = (p: string, text: string, mode = 0o644) => {
    const f = join(root, p);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, text);
    chmodSync(f, mode);
  };
  const hard = kind === 'hardened';
  w(
    'etc/passwd',
    `root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000:,,,:/home/pi:/bin/bash\nedge-agent:x:998:998::/var/lib/edge-agent:/usr/sbin/nologin\n${hard ? '' : 'toor:x:0:0::/root:/bin/bash\n'}`,
  );
  w(
    'etc/shadow',
    hard
      ? `root:!:19700:0:99999:7:::\npi:${cryptHash(randomBytes(18).toString('base64'), 'y')}:19700:0:99999:7:::\nedge-agent:!*:19700::::::\n`
      : `root:${cryptHash('root', '1')}:19700:0:99999:7:::\npi:${cryptHash('raspberry', 'y')}:19700:0:99999:7:::\nadmin:${cryptHash('admin', '6')}:19700:0:99999:7:::\nguest::19700:0:99999:7:::\n`,
    hard ? 0o640 : 0o644,
  );
  w(
    'etc/ssh/sshd_config',
    hard
      ? 'Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitEmptyPasswords no\nMaxAuthTries 3\nMatch User backup\n  PasswordAuthentication yes\n'
      : '# defaults mostly\nPermitRootLogin yes\nPermitEmptyPasswords yes\nMaxAuthTries 10\nCiphers aes128-cbc,3des-cbc,aes256-ctr\nMACs hmac-md5,hmac-sha2-256\n',
  );
  if (hard)
    w(
      'etc/ssh/sshd_config.d/10-crypto.conf',
      'Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com\nKexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256\n',
    );
  w(
    'proc/net/tcp',
    TCP_HEAD +
      tcpLine(0, '00000000', 22) +
      tcpLine(1, '0100007F', 1883) +
      (hard ? '' : tcpLine(2, '00000000', 23) + tcpLine(3, '00000000', 1883)),
  );
  if (hard) {
    mkdirSync(join(root, 'etc/systemd/system/sysinit.target.wants'), { recursive: true });
    symlinkSync(
      '/lib/systemd/system/systemd-timesyncd.service',
      join(root, 'etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service'),
    );
    w(
      'etc/apt/apt.conf.d/20auto-upgrades',
      'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n',
    );
  }
  w(
    'etc/nftables.conf',
    `#!/usr/sbin/nft -f\nflush ruleset\ntable inet filter {\n  chain input {\n    type filter hook input priority 0; policy ${hard ? 'drop' : 'accept'};\n    ct state established,related accept\n    tcp dport 22 accept\n  }\n}\n`,
  );
  w(
    'boot/firmware/cmdline.txt',
    `${hard ? '' : 'console=serial0,115200 '}console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait\n`,
  );
  w('boot/firmware/config.txt', `dtparam=audio=on\ncamera_auto_detect=1\n${hard ? '' : 'enable_uart=1\n'}`);
  w('etc/crontab', '17 * * * * root cd / && run-parts --report /etc/cron.hourly\n', hard ? 0o644 : 0o666);
  mkdirSync(join(root, 'var/lib/edge-agent/identity'), { recursive: true });
  chmodSync(join(root, 'var/lib/edge-agent'), hard ? 0o700 : 0o755);
  w(
    'var/lib/edge-agent/identity/signing.key',
    '-----BEGIN PRIVATE KEY-----\nfixture\n-----END PRIVATE KEY-----\n',
    hard ? 0o600 : 0o644,
  );
  w('etc/edge-agent/tls.key', 'fixture', hard ? 0o600 : 0o640);
  w('etc/edge-agent/ca.crt', caPem);
  // The software check: glibc with the Looney Tunables fix (hardened) or without it (careless), and a signed feed.
  const glibc = hard ? '2.36-9+deb12u3' : '2.36-9+deb12u1';
  w(
    'etc/os-release',
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
  );
  w(
    'var/lib/dpkg/status',
    ['libc6', 'libc-bin']
      .map(
        (p) =>
          `Package: ${p}\nStatus: install ok installed\nArchitecture: arm64\nSource: glibc\nVersion: ${glibc}\nDescription: GNU C Library\n`,
      )
      .join('\n'),
  );
  const rootKey = docKey();
  const profilesKey = docKey();
  trustProfilesKey(join(root, 'var/lib/edge-agent'), rootKey, profilesKey);
  w(
    'var/lib/edge-agent/vulnerabilities-feed.json',
    makeDoc(
      'vulnerabilities',
      1,
      {
        sources: ['fixture'],
        records: [
          {
            id: 'CVE-2023-4911',
            eco: 'deb',
            pkg: 'glibc',
            release: 'bookworm',
            ranges: [{ fixed: '2.36-9+deb12u3' }],
            severity: 'high',
            cvss: 7.8,
            kev: true,
          },
        ],
      },
      profilesKey,
    ).toString(),
  );
  w(
    'etc/edge-agent/config.json',
    JSON.stringify({
      device: { id: 'gw-fixture' },
      trust: { rootKey: rootKey.b64 },
      storage: { dir: '/var/lib/edge-agent' },
      mqtt: {
        url: hard ? 'mqtts://collector.city.example:8883' : 'mqtt://collector.city.example:1883',
        ca: '/etc/edge-agent/ca.crt',
        cert: '/etc/edge-agent/tls.crt',
        key: '/etc/edge-agent/tls.key',
        insecurePlaintextForDevelopment: !hard,
      },
      monitor: { listeners: { allow: ['tcp/22'] } },
    }),
  );
}
