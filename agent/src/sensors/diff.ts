import type { Assessed } from './types.js';

export interface InventoryChange {
  kind: 'added' | 'removed' | 'replaced' | 'moved' | 'firmware_changed';
  device: Assessed;
  before?: Assessed;
}

/** What changed since the last inventory, by fingerprint (identity) and location. */
export function diffInventory(before: Assessed[], now: Assessed[]): InventoryChange[] {
  const prev = new Map(before.map((d) => [d.fingerprint, d]));
  const cur = new Map(now.map((d) => [d.fingerprint, d]));
  const out: InventoryChange[] = [];
  const gone = before.filter((d) => !cur.has(d.fingerprint));
  for (const d of now) {
    const p = prev.get(d.fingerprint);
    if (p) {
      if (p.location !== d.location) out.push({ kind: 'moved', device: d, before: p });
      if (p.firmware !== d.firmware) out.push({ kind: 'firmware_changed', device: d, before: p });
      continue;
    }
    // Same model at the same place with another identity: a swap, which in a street cabinet can mean manipulation.
    const i = gone.findIndex(
      (g) =>
        g.bus === d.bus &&
        g.location === d.location &&
        g.vendorId === d.vendorId &&
        g.productId === d.productId,
    );
    if (i >= 0) {
      out.push({ kind: 'replaced', device: d, before: gone[i] });
      gone.splice(i, 1);
    } else out.push({ kind: 'added', device: d });
  }
  for (const g of gone) out.push({ kind: 'removed', device: g });
  return out;
}
