import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { Severity } from '../core/index.js';
import { readListeners } from '../monitor/index.js';
import {
  fail,
  hostPath,
  meaningfulLines,
  na,
  noAgent,
  oct,
  pass,
  readGateway,
  statGateway,
  unreadable,
} from './files.js';
import type { Check, Evidence } from './types.js';

export const listeners: Check = {
  id: 'net.listeners',
  title: 'Only allowed services listen on the network',
  severity: Severity.HIGH,
  rationale: 'Every listening socket is attack surface on the cabinet network.',
  remedy:
    'Stop and disable the service (`systemctl disable --now <unit>`), or add `proto/port` to monitor.listeners.allow if it is needed.',
  etsi: ['5.6-1', '5.6-2'],
  iec: ['CR 7.7'],
  run({ root, allowListeners }) {
    // Read through hostPath: /proc/net is a symlink (self/net), and an image's must stay in the image.
    const { listeners: all, unreadable: bad } = readListeners(root, (p) =>
      readFileSync(hostPath(root, p), 'utf8'),
    );
    if (bad.length && all.length === 0) return unreadable(`/proc/net/${bad[0]}`);
    if (all.length === 0) return na('no /proc/net listeners to read');
    const extra = all.filter(
      (l) =>
        !l.address.startsWith('127.') &&
        l.address !== '0:0:0:0:0:0:0:1' &&
        !allowListeners.includes(`${l.proto}/${l.port}`),
    );
    const ev = extra.map((l) => ({
      file: `/proc/net/${l.proto}`,
      text: `${l.proto}/${l.port} on ${l.address}`,
    }));
    return ev.length
      ? fail(`${ev.length} listener(s) outside the allowlist`, ev)
      : pass(`${all.length} listener(s), all allowed or loopback`);
  },
};

export const agentKeyPerms: Check = {
  id: 'perms.agent-keys',
  title: "The agent's private keys are 0600 and its data folder is closed",
  severity: Severity.HIGH,
  rationale: 'Whoever reads the keys can sign telemetry and connect as this gateway.',
  remedy: 'chmod 600 the key files and chmod 700 (or 750) the data folder.',
  etsi: ['5.4-1'],
  iec: ['CR 1.9', 'CR 4.1'],
  run(ctx) {
    const { root, agent } = ctx;
    if (!agent) return noAgent(ctx);
    const ev: Evidence[] = [];
    let seen = 0;
    for (const f of [agent.signingKey, agent.tlsKey]) {
      const s = statGateway(root, f);
      if (!s) continue;
      seen++;
      if ((s.mode & 0o077) !== 0) ev.push({ file: f, text: `mode ${oct(s.mode)}` });
    }
    const d = statGateway(root, agent.dataDir);
    if (d) {
      seen++;
      if ((d.mode & 0o027) !== 0) ev.push({ file: agent.dataDir, text: `mode ${oct(d.mode)}` });
    }
    if (seen === 0) return na('the agent has no keys here yet');
    return ev.length
      ? fail('key or data folder permissions too open', ev)
      : pass('keys 0600, data folder closed');
  },
};

export const shadowPerms: Check = {
  id: 'perms.shadow',
  title: '/etc/shadow is readable by root (and the shadow group) only',
  severity: Severity.HIGH,
  rationale: 'Readable password hashes can be cracked offline.',
  remedy: 'chown root:shadow /etc/shadow && chmod 640 /etc/shadow',
  etsi: ['5.4-1'],
  iec: ['CR 1.5'],
  run({ root }) {
    const s = statGateway(root, '/etc/shadow');
    if (!s) return na('no /etc/shadow');
    const ev = [{ file: '/etc/shadow', text: `mode ${oct(s.mode)}, uid ${s.uid}` }];
    return (s.mode & 0o037) === 0 && s.uid === 0
      ? pass('mode and owner are tight', ev)
      : fail('/etc/shadow is too open', ev);
  },
};

export const worldWritableEtc: Check = {
  id: 'perms.world-writable-etc',
  title: 'Nothing under /etc is world-writable',
  severity: Severity.HIGH,
  rationale: 'A world-writable configuration file lets any local process change system behaviour.',
  remedy: 'chmod o-w on each file listed.',
  etsi: ['5.7-1'],
  iec: ['CR 2.1', 'CR 3.4'],
  run({ root }) {
    const ev: Evidence[] = [];
    const walk = (gw: string, depth: number) => {
      if (depth > 12 || ev.length >= 50) return;
      let names: string[];
      try {
        names = readdirSync(hostPath(root, gw));
      } catch {
        return;
      }
      for (const n of names) {
        const p = posix.join(gw, n);
        let st: ReturnType<typeof lstatSync>;
        try {
          st = lstatSync(hostPath(root, p, false));
        } catch {
          continue;
        }
        if (st.isSymbolicLink()) continue;
        const sticky = (st.mode & 0o1000) !== 0;
        if ((st.mode & 0o002) !== 0 && !(st.isDirectory() && sticky))
          ev.push({ file: p, text: `mode ${oct(st.mode)}` });
        if (st.isDirectory()) walk(p, depth + 1);
      }
    };
    if (!statGateway(root, '/etc')) return na('no /etc');
    walk('/etc', 0);
    return ev.length
      ? fail(`${ev.length} world-writable path(s) under /etc`, ev)
      : pass('no world-writable path under /etc');
  },
};

export const timeSync: Check = {
  id: 'time.sync',
  title: 'Time synchronisation is configured',
  severity: Severity.MEDIUM,
  rationale: 'A Pi has no real-time clock: without NTP, certificates, logs and signed time stamps go wrong.',
  remedy: 'Enable systemd-timesyncd (`timedatectl set-ntp true`) or install chrony.',
  etsi: ['5.9-1'],
  iec: ['CR 2.11'],
  run({ root }) {
    const candidates = [
      '/etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service',
      '/etc/systemd/system/multi-user.target.wants/chrony.service',
      '/etc/systemd/system/multi-user.target.wants/ntpsec.service',
      '/etc/systemd/system/multi-user.target.wants/ntp.service',
    ];
    const on = candidates.find((c) => {
      try {
        lstatSync(hostPath(root, c, false));
        return true;
      } catch {
        return false;
      }
    });
    return on
      ? pass('a time service is enabled', [{ file: on, text: 'enabled' }])
      : fail('no time synchronisation service is enabled', [{ file: candidates[0], text: 'absent' }]);
  },
};

export const firewall: Check = {
  id: 'net.firewall',
  title: 'A firewall drops inbound traffic by default',
  severity: Severity.HIGH,
  rationale: 'Default-deny keeps services that start later (or by mistake) off the network.',
  remedy:
    'Configure nftables with `policy drop;` on the input chain (or ufw with DEFAULT_INPUT_POLICY="DROP") and enable it.',
  etsi: ['5.6-1'],
  iec: ['CR 5.1', 'CR 7.7'],
  run({ root }) {
    const nft = readGateway(root, '/etc/nftables.conf');
    if (nft.kind === 'not-readable') return unreadable(nft.path);
    if (nft.kind === 'ok') {
      const lines = meaningfulLines(nft.text);
      const hook = lines.find((l) => /hook\s+input\b.*policy\s+drop\s*;?/.test(l.line));
      if (hook)
        return pass('nftables input chain drops by default', [
          { file: nft.path, line: hook.n, text: hook.line },
        ]);
    }
    const ipt = readGateway(root, '/etc/iptables/rules.v4');
    if (ipt.kind === 'ok') {
      const l = meaningfulLines(ipt.text).find((x) => /^:INPUT\s+DROP\b/.test(x.line));
      if (l) return pass('iptables INPUT policy is DROP', [{ file: ipt.path, line: l.n, text: l.line }]);
    }
    const ufw = readGateway(root, '/etc/ufw/ufw.conf');
    const dflt = readGateway(root, '/etc/default/ufw');
    if (
      ufw.kind === 'ok' &&
      dflt.kind === 'ok' &&
      /^ENABLED=yes/m.test(ufw.text) &&
      /^DEFAULT_INPUT_POLICY="DROP"/m.test(dflt.text)
    ) {
      return pass('ufw is enabled with a DROP input policy', [
        { file: dflt.path, text: 'DEFAULT_INPUT_POLICY="DROP"' },
      ]);
    }
    return fail('no default-deny input policy found (nftables, iptables or ufw)', [
      { file: '/etc/nftables.conf', text: nft.kind === 'ok' ? 'no input chain with policy drop' : 'absent' },
    ]);
  },
};

export const autoUpdates: Check = {
  id: 'updates.automatic',
  title: 'Security updates install automatically',
  severity: Severity.HIGH,
  rationale: 'Cabinets are rarely visited: fixes must arrive without a technician.',
  remedy: 'apt install unattended-upgrades && dpkg-reconfigure -plow unattended-upgrades',
  etsi: ['5.3-2', '5.3-8'],
  iec: ['CR 3.10'],
  run({ root }) {
    const r = readGateway(root, '/etc/apt/apt.conf.d/20auto-upgrades');
    if (r.kind === 'not-readable') return unreadable(r.path);
    if (r.kind === 'missing')
      return fail('unattended upgrades are not configured', [{ file: r.path, text: 'absent' }]);
    const l = meaningfulLines(r.text).find((x) => /APT::Periodic::Unattended-Upgrade\s+"1"/.test(x.line));
    return l
      ? pass('unattended upgrades run daily', [{ file: r.path, line: l.n, text: l.line }])
      : fail('unattended upgrades are off', [
          { file: r.path, text: 'APT::Periodic::Unattended-Upgrade is not "1"' },
        ]);
  },
};

export const debugInterfaces: Check = {
  id: 'debug.interfaces',
  title: 'No serial console or debug interface is enabled',
  severity: Severity.HIGH,
  rationale: 'A serial console or JTAG in a street cabinet gives anyone with a screwdriver a root shell.',
  remedy:
    'Remove `console=serial0,…` from cmdline.txt and `enable_uart=1` / `enable_jtag_gpio=1` from config.txt (unless a sensor needs the UART: then keep it but without a console).',
  etsi: ['5.6-4'],
  iec: ['CR 7.7', 'CR 2.13'],
  run({ root }) {
    const ev: Evidence[] = [];
    let seen = 0;
    for (const dir of ['/boot', '/boot/firmware']) {
      const cmd = readGateway(root, `${dir}/cmdline.txt`);
      if (cmd.kind === 'not-readable') return unreadable(cmd.path);
      if (cmd.kind === 'ok') {
        seen++;
        const m = /console=(serial\d|ttyAMA\d|ttyS\d|ttyUSB\d)[^\s]*/.exec(cmd.text);
        if (m) ev.push({ file: cmd.path, line: 1, text: m[0] });
      }
      const conf = readGateway(root, `${dir}/config.txt`);
      if (conf.kind === 'ok') {
        seen++;
        for (const l of meaningfulLines(conf.text))
          if (/^(enable_uart=1|enable_jtag_gpio=1)\b/.test(l.line))
            ev.push({ file: conf.path, line: l.n, text: l.line });
      }
    }
    if (seen === 0) return na('no Raspberry Pi boot configuration');
    return ev.length
      ? fail('a serial console or debug interface is enabled', ev)
      : pass('no serial console, UART or JTAG enabled');
  },
};
