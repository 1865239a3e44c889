import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DiscoveryError } from './errors.js';
import { safeText } from './text.js';
import type { Device } from './types.js';

/**
 * What is attached. A device whose attributes cannot be read is skipped with a
 * warning; a bus folder that exists but cannot be listed throws `DiscoveryError`.
 */
export interface DiscoveryResult {
  devices: Device[];
  /** Serial ports with a device behind them, USB ones included (where declared sensors sit). */
  ports: string[];
  warnings: string[];
}

const readRaw = (p: string): Buffer | undefined => {
  try {
    return readFileSync(p);
  } catch {
    return undefined;
  }
};
const trimRaw = (b: Buffer | undefined): Buffer | undefined =>
  b ? b.subarray(0, b.length > 0 && b[b.length - 1] === 0x0a ? b.length - 1 : b.length) : undefined;
/** Absent is normal (no such bus, a device unplugged mid-scan); any other failure stops discovery. */
const absent = (e: unknown): boolean => (e as { code?: string }).code === 'ENOENT';
const list = (p: string): string[] => {
  try {
    return readdirSync(p).sort();
  } catch (e) {
    if (absent(e)) return [];
    throw new DiscoveryError(p, e);
  }
};
const readOptional = (p: string): Buffer | undefined => {
  try {
    return readFileSync(p);
  } catch (e) {
    if (absent(e)) return undefined;
    throw new DiscoveryError(p, e);
  }
};

/** A stable fingerprint over the identity attributes, hashed from the raw bytes. */
export function fingerprint(parts: (Buffer | string | undefined)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    const b = p === undefined ? Buffer.alloc(0) : Buffer.from(p);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    h.update(len).update(b);
  }
  return h.digest('hex').slice(0, 32);
}

const bcd = (hex: string | undefined) =>
  hex && /^[0-9a-fA-F]{4}$/.test(hex) ? `${Number.parseInt(hex.slice(0, 2), 16)}.${hex.slice(2)}` : undefined;

/** USB devices from /sys/bus/usb/devices (hubs and interfaces left out). */
function usb(root: string, warnings: string[]): Device[] {
  const base = join(root, 'sys/bus/usb/devices');
  const out: Device[] = [];
  for (const name of list(base)) {
    if (name.includes(':') || name.startsWith('usb')) continue;
    const dir = join(base, name);
    const vid = trimRaw(readRaw(join(dir, 'idVendor')));
    const pid = trimRaw(readRaw(join(dir, 'idProduct')));
    if (!vid || !pid) {
      warnings.push(`usb ${safeText(name)}: idVendor/idProduct not readable, skipped`);
      continue;
    }
    const cls = trimRaw(readRaw(join(dir, 'bDeviceClass')))?.toString();
    if (cls === '09') continue; // a hub
    const serial = trimRaw(readRaw(join(dir, 'serial')));
    const manufacturer = trimRaw(readRaw(join(dir, 'manufacturer')));
    const product = trimRaw(readRaw(join(dir, 'product')));
    const bcdDevice = trimRaw(readRaw(join(dir, 'bcdDevice')))?.toString();
    let driver: string | undefined;
    for (const intf of list(dir).filter((f) => f.startsWith(`${name}:`))) {
      try {
        driver = basename(readlinkSync(join(dir, intf, 'driver')));
        break;
      } catch {
        // no driver bound
      }
    }
    out.push({
      fingerprint: fingerprint(['usb', vid, pid, serial, manufacturer, product]),
      bus: 'usb',
      location: safeText(name),
      vendorId: safeText(vid, 4).toLowerCase(),
      productId: safeText(pid, 4).toLowerCase(),
      serial: serial && safeText(serial),
      manufacturer: manufacturer && safeText(manufacturer),
      product: product && safeText(product),
      firmware: bcd(bcdDevice),
      driver,
    });
  }
  return out;
}

/** Serial ports with a device behind them (ttyUSB*, ttyACM*, ttyAMA*, ttyS*). */
function ports(root: string): string[] {
  const base = join(root, 'sys/class/tty');
  return list(base).filter((t) => {
    if (!/^tty(USB|ACM|AMA|S)\d+$/.test(t)) return false;
    try {
      readlinkSync(join(base, t, 'device'));
      return true;
    } catch {
      return false; // no device behind it (most ttyS*)
    }
  });
}

/** On-board UARTs with a device behind them; USB ones are listed as their USB device. */
function serial(root: string): Device[] {
  const base = join(root, 'sys/class/tty');
  return ports(root)
    .filter((t) => /^tty(AMA|S)\d+$/.test(t))
    .flatMap((t) => {
      let target: string;
      try {
        target = readlinkSync(join(base, t, 'device'));
      } catch {
        return []; // no device behind it (most ttyS*)
      }
      return [
        {
          fingerprint: fingerprint(['serial', t, target]),
          bus: 'serial' as const,
          location: t,
          driver: (() => {
            try {
              return basename(readlinkSync(join(base, t, 'device', 'driver')));
            } catch {
              return undefined;
            }
          })(),
        },
      ];
    });
}

/** 1-Wire slaves (temperature probes) and I2C clients (environment sensors). */
function w1i2c(root: string): Device[] {
  const w1 = list(join(root, 'sys/bus/w1/devices'))
    .filter((d) => /^[0-9a-f]{2}-[0-9a-f]{12}$/.test(d))
    .map((d) => ({
      fingerprint: fingerprint(['w1', d]),
      bus: 'w1' as const,
      location: d,
      productId: d.slice(0, 2),
      serial: d.slice(3),
    }));
  const i2c = list(join(root, 'sys/bus/i2c/devices'))
    .filter((d) => /^\d+-[0-9a-f]{4}$/.test(d))
    .map((d) => {
      const name = trimRaw(readRaw(join(root, 'sys/bus/i2c/devices', d, 'name')));
      return {
        fingerprint: fingerprint(['i2c', d, name]),
        bus: 'i2c' as const,
        location: d,
        product: name && safeText(name),
      };
    });
  return [...w1, ...i2c];
}

/** Peers on the cabinet LAN from the neighbour table. */
function lan(root: string): Device[] {
  const t = readOptional(join(root, 'proc/net/arp'))?.toString('utf8') ?? '';
  return t
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter(
      (f) => f.length >= 6 && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(f[3]) && f[3] !== '00:00:00:00:00:00',
    )
    .map((f) => ({
      fingerprint: fingerprint(['lan', f[3].toLowerCase()]),
      bus: 'lan' as const,
      location: `${f[0]}@${safeText(f[5], 16)}`,
      mac: f[3].toLowerCase(),
      vendorId: f[3].slice(0, 8).toLowerCase(),
    }));
}

/** Everything discoverable under a filesystem root (`/`, or a fixture tree). */
export function discover(
  root: string,
  declared: { id: string; model: string; location?: string }[] = [],
): DiscoveryResult {
  const warnings: string[] = [];
  const devices = [
    ...usb(root, warnings),
    ...serial(root),
    ...w1i2c(root),
    ...lan(root),
    ...declared.map((d) => ({
      fingerprint: fingerprint(['declared', d.id]),
      bus: 'declared' as const,
      location: d.location ?? d.id,
      sensorId: d.id,
      declaredModel: d.model,
    })),
  ];
  return { devices, ports: ports(root), warnings };
}
