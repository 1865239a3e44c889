/** One thing attached to (or declared on) the gateway. */
export interface Device {
  /** Stable hash over the identity attributes (raw bytes), hex. */
  fingerprint: string;
  bus: 'usb' | 'serial' | 'w1' | 'i2c' | 'lan' | 'declared';
  /** Where it sits: USB port path, tty name, 1-Wire id, I2C address, IP. */
  location: string;
  vendorId?: string;
  productId?: string;
  serial?: string;
  manufacturer?: string;
  product?: string;
  /** Firmware revision as the bus reports it (USB bcdDevice as `x.yy`). */
  firmware?: string;
  driver?: string;
  /** MAC address (LAN peers). */
  mac?: string;
  /** The model a declared sensor is expected to be. */
  declaredModel?: string;
  /** A declared sensor's id in the config. */
  sensorId?: string;
}

export type Verdict =
  | 'approved'
  | 'unknown-model'
  | 'unknown-firmware'
  | 'vulnerable'
  | 'unsupported'
  | 'declared-missing';

export interface Assessed extends Device {
  verdict: Verdict;
  model?: string;
  cves: { id: string; severity: string }[];
  note?: string;
}
