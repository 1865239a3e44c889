import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface UsbSpec {
  port: string;
  vid: string;
  pid: string;
  bcd?: string;
  serial?: string | Buffer;
  manufacturer?: string | Buffer;
  product?: string | Buffer;
  driver?: string;
}

/** Writes one USB device the way sysfs shows it under /sys/bus/usb/devices. */
export function addUsb(root: string, d: UsbSpec): void {
  const dir = join(root, 'sys/bus/usb/devices', d.port);
  mkdirSync(dir, { recursive: true });
  const f = (n: string, v: string | Buffer | undefined) =>
    v !== undefined && writeFileSync(join(dir, n), Buffer.concat([Buffer.from(v), Buffer.from('\n')]));
  f('idVendor', d.vid);
  f('idProduct', d.pid);
  f('bcdDevice', d.bcd ?? '0100');
  f('bDeviceClass', '00');
  f('serial', d.serial);
  f('manufacturer', d.manufacturer);
  f('product', d.product);
  if (d.driver) {
    const drv = join(root, 'sys/bus/usb/drivers', d.driver);
    mkdirSync(drv, { recursive: true });
    mkdirSync(join(dir, `${d.port}:1.0`), { recursive: true });
    symlinkSync(drv, join(dir, `${d.port}:1.0`, 'driver'));
  }
}

/** The cabinet's FTDI Modbus adapter on port 1-1.6; another serial is another unit of the same model. */
export const ftdiAdapter = (serial: string): UsbSpec => ({
  port: '1-1.6',
  vid: '0403',
  pid: '6001',
  bcd: '0600',
  manufacturer: 'FTDI',
  product: 'FT232R USB UART',
  serial,
  driver: 'ftdi_sio',
});

/** Unplugs whatever is on the spec's port and plugs the spec in (a swap). */
export function swapUsb(root: string, spec: UsbSpec): void {
  removeUsb(root, spec.port);
  addUsb(root, { ...spec, driver: undefined });
}

export const removeUsb = (root: string, port: string) =>
  rmSync(join(root, 'sys/bus/usb/devices', port), { recursive: true, force: true });

/**
 * A Raspberry Pi street cabinet: LTE modem, a 5G module with a known CVE, a
 * GNSS receiver no profile knows, a Zigbee coordinator, a USB-serial
 * air-quality sensor, an FTDI Modbus adapter, a 1-Wire probe, an I2C sensor,
 * two LAN peers, and the Pi's own hub.
 */
export function makeCabinet(root: string): void {
  addUsb(root, { port: '1-1', vid: '2109', pid: '3431', product: 'USB2.0 Hub' });
  writeFileSync(join(root, 'sys/bus/usb/devices/1-1/bDeviceClass'), '09\n');
  addUsb(root, {
    port: '1-1.1',
    vid: '2c7c',
    pid: '0125',
    bcd: '0318',
    manufacturer: 'Quectel',
    product: 'EG25-G',
    serial: '0000',
    driver: 'option',
  });
  addUsb(root, {
    port: '1-1.2',
    vid: '2c7c',
    pid: '0800',
    bcd: '0414',
    manufacturer: 'Quectel',
    product: 'RG502Q-EA',
    serial: 'a1b2c3',
  });
  addUsb(root, {
    port: '1-1.3',
    vid: '1546',
    pid: '01a8',
    bcd: '0301',
    manufacturer: 'u-blox AG - www.u-blox.com',
    product: 'u-blox GNSS receiver',
    driver: 'cdc_acm',
  });
  addUsb(root, {
    port: '1-1.4',
    vid: '1cf1',
    pid: '0030',
    bcd: '0100',
    manufacturer: 'dresden elektronik ingenieurtechnik GmbH',
    product: 'ConBee II',
    serial: 'DE2152345',
    driver: 'cdc_acm',
  });
  addUsb(root, {
    port: '1-1.5',
    vid: '1a86',
    pid: '7523',
    bcd: '0264',
    product: 'USB Serial',
    driver: 'ch341',
  });
  addUsb(root, ftdiAdapter('A10KXYZ1'));
  const tty = (name: string, target: string) => {
    const dir = join(root, 'sys/class/tty', name);
    mkdirSync(dir, { recursive: true });
    mkdirSync(join(root, 'sys/devices', target), { recursive: true });
    symlinkSync(join(root, 'sys/devices', target), join(dir, 'device'));
  };
  tty('ttyUSB0', 'platform/usb/1-1.5:1.0/ttyUSB0');
  tty('ttyUSB1', 'platform/usb/1-1.6:1.0/ttyUSB1');
  tty('ttyAMA0', 'platform/fe201000.serial');
  mkdirSync(join(root, 'sys/class/tty/ttyS0'), { recursive: true }); // no device behind it
  mkdirSync(join(root, 'sys/bus/w1/devices/28-0316a2e3b8ff'), { recursive: true });
  mkdirSync(join(root, 'sys/bus/i2c/devices/1-0076'), { recursive: true });
  writeFileSync(join(root, 'sys/bus/i2c/devices/1-0076/name'), 'bme280\n');
  mkdirSync(join(root, 'proc/net'), { recursive: true });
  writeFileSync(
    join(root, 'proc/net/arp'),
    'IP address       HW type     Flags       HW address            Mask     Device\n' +
      '192.168.10.21    0x1         0x2         b8:27:eb:12:34:56     *        eth0\n' +
      '192.168.10.30    0x1         0x2         00:1a:2b:3c:4d:5e     *        eth0\n' +
      '192.168.10.99    0x1         0x0         00:00:00:00:00:00     *        eth0\n',
  );
}

export const writeFile = (root: string, p: string, v: string) => {
  mkdirSync(dirname(join(root, p)), { recursive: true });
  writeFileSync(join(root, p), v);
};
