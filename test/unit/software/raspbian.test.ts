// Raspberry Pi OS (#17): Raspbian's 32-bit rebuilds (`+rpiN` inside Debian's version), Raspberry
// Pi's own archive (`+rptN` appended), `Origin: Raspbian` in the dpkg status. Their purl and
// their judgement against Debian's security tracker, with dpkg's own order as the reference.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  compareDebVersions,
  debianEquivalent,
  indexFeed,
  matchFeed,
  readInventory,
  type VulnRecord,
} from '../../../agent/src/software/index.js';
import { tempDir } from '../../helpers/paths.js';
import { dpkgCompare } from '../../helpers/software.js';

const PAIRS: [string, string][] = [
  ['1.2.3-1+rpt1', '1.2.3-1'],
  ['1.2.3-1+rpt1', '1.2.3-2'],
  ['1.2.3-1+rpt1', '1.2.3-1+rpt2'],
  ['1.2.3-1+rpt1', '1.2.3-1+deb12u1'],
  ['2:1.0+rpi1-2', '2:1.0-2'],
  ['2:1.0+rpi1-2', '2:1.0.1-1'],
  ['2:1.0+rpi1-2', '1:9.9-9'],
  ['2.36-9+rpi1+deb12u3', '2.36-9+deb12u4'],
  ['2.36-9+rpi1+deb12u4', '2.36-9+deb12u4'],
  ['2.36-9+rpi1', '2.36-9+deb12u1'],
  ['3.0.15-1~deb12u1+rpt1', '3.0.15-1~deb12u1'],
  ['3.0.15-1~deb12u1+rpt1', '3.0.15-1~deb12u2'],
  ['3.0.15-1~deb12u1+rpt1', '3.0.15-1'],
  ['1:6.6.51-1+rpt3', '6.1.119-1'],
  ['1:6.6.51-1+rpt3', '1:6.6.51-1+rpt2'],
  ['5.2.15-2+b7', '5.2.15-2+rpi1'],
  ['0.3.2+rpt20241119-1', '0.3.2-1'],
];

describe('Raspberry Pi OS packages', () => {
  const t = tempDir();
  after(() => t.cleanup());

  it('orders Raspberry Pi versions exactly as dpkg --compare-versions does', () => {
    const want = dpkgCompare(PAIRS);
    const got = PAIRS.map(([a, b]) => compareDebVersions(a, b));
    assert.deepEqual(got, want);
    // The trap dpkg's order sets for Raspbian: +rpi1 sorts above Debian's +deb12u4 fix.
    assert.equal(want[7], 1);
  });

  it('compares a Raspbian rebuild with Debian fixes as the Debian version it stands for', () => {
    const pairs: [string, string][] = [
      ['2.36-9+rpi1+deb12u3', '2.36-9+deb12u3'],
      ['2.36-9+rpi1+deb12u4', '2.36-9+deb12u4'],
      ['2:1.0+rpi1-2', '2:1.0-2'],
      ['1.2.3-1+rpi1', '1.2.3-1'],
      ['1.2.3-1+rpt1', '1.2.3-1+rpt1'],
      ['3.0.15-1~deb12u1+rpt1', '3.0.15-1~deb12u1+rpt1'],
    ];
    for (const [v, want] of pairs) assert.equal(debianEquivalent(v), want, v);
    // Checked with dpkg too: the equivalent is below the fix where the rebuild lacks it.
    assert.deepEqual(dpkgCompare([[debianEquivalent('2.36-9+rpi1+deb12u3'), '2.36-9+deb12u4']]), [-1]);
  });

  const image = (name: string, osRelease: string, status: string) => {
    const root = join(t.dir, name);
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'var/lib/dpkg'), { recursive: true });
    writeFileSync(join(root, 'etc/os-release'), osRelease);
    writeFileSync(join(root, 'var/lib/dpkg/status'), status);
    return readInventory(root, { lockfile: join(root, 'none.json') });
  };
  const stanza = (name: string, version: string, arch: string, extra = '') =>
    `Package: ${name}\nStatus: install ok installed\nArchitecture: ${arch}\n${extra}Version: ${version}\nDescription: x\n\n`;
  const feed = (records: Partial<VulnRecord>[]) =>
    indexFeed({
      records: records.map((r) => ({
        id: 'CVE-2099-0001',
        eco: 'deb' as const,
        pkg: 'x',
        ranges: [],
        severity: 'high' as const,
        release: 'bookworm',
        ...r,
      })),
    });

  it('32-bit Raspbian: pkg:deb/raspbian purls with distro=raspbian-12; rebuilds judged against Debian fixes', () => {
    const inv = image(
      'raspbian',
      'ID=raspbian\nID_LIKE=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
      stanza('libc6', '2.36-9+rpi1+deb12u3', 'armhf', 'Source: glibc\n') +
        stanza('libc-bin', '2.36-9+rpi1+deb12u4', 'armhf', 'Source: glibc\n') +
        stanza('zlib1g', '1:1.2.13.dfsg-1', 'armhf', 'Source: zlib (1:1.2.13.dfsg-1+rpi1)\n') +
        stanza('bash', '5.2.15-2', 'armhf', 'Origin: Raspbian\n'),
    );
    const purl = Object.fromEntries(inv.components.map((c) => [c.name, c.purl]));
    assert.deepEqual(purl, {
      libc6: 'pkg:deb/raspbian/libc6@2.36-9%2Brpi1%2Bdeb12u3?arch=armhf&distro=raspbian-12&upstream=glibc',
      'libc-bin':
        'pkg:deb/raspbian/libc-bin@2.36-9%2Brpi1%2Bdeb12u4?arch=armhf&distro=raspbian-12&upstream=glibc',
      zlib1g:
        'pkg:deb/raspbian/zlib1g@1:1.2.13.dfsg-1?arch=armhf&distro=raspbian-12&upstream=zlib%401:1.2.13.dfsg-1%2Brpi1',
      bash: 'pkg:deb/raspbian/bash@5.2.15-2?arch=armhf&distro=raspbian-12',
    });
    const found = matchFeed(
      inv,
      feed([
        { id: 'CVE-2023-4911', pkg: 'glibc', ranges: [{ fixed: '2.36-9+deb12u4' }] },
        { id: 'CVE-2099-0002', pkg: 'zlib', ranges: [{ fixed: '1:1.2.13.dfsg-2' }] },
        { id: 'CVE-2099-0003', pkg: 'zlib', ranges: [{ fixed: '1:1.2.13.dfsg-1' }] },
      ]),
    );
    assert.deepEqual(
      found.map((f) => `${f.id} ${f.component.name} ${f.fixed}`).sort(),
      ['CVE-2023-4911 libc6 2.36-9+deb12u4', 'CVE-2099-0002 zlib1g 1:1.2.13.dfsg-2'],
      'the rebuild without the fix is found, the one with it is not',
    );
  });

  it('64-bit Raspberry Pi OS: Debian packages stay pkg:deb/debian, Raspberry Pi builds (+rpt) are raspbian; distro=debian-12', () => {
    const inv = image(
      'rpios64',
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
      stanza('openssl', '3.0.15-1~deb12u1+rpt1', 'arm64') +
        stanza('libssl3', '3.0.15-1~deb12u1', 'arm64', 'Source: openssl\n') +
        stanza('coreutils', '9.1-1', 'arm64'),
    );
    const purl = Object.fromEntries(inv.components.map((c) => [c.name, c.purl]));
    assert.deepEqual(purl, {
      openssl: 'pkg:deb/raspbian/openssl@3.0.15-1~deb12u1%2Brpt1?arch=arm64&distro=debian-12',
      libssl3: 'pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=arm64&distro=debian-12&upstream=openssl',
      coreutils: 'pkg:deb/debian/coreutils@9.1-1?arch=arm64&distro=debian-12',
    });
    const judged = (fixed: string) =>
      matchFeed(inv, feed([{ pkg: 'openssl', ranges: [{ fixed }] }]))
        .map((f) => f.component.name)
        .sort();
    assert.deepEqual(judged('3.0.15-1~deb12u2'), ['libssl3', 'openssl'], 'both below the next fix');
    assert.deepEqual(judged('3.0.15-1~deb12u1'), [], 'the +rpt1 build carries the fix it is based on');
  });
});
