import { readFileSync } from 'node:fs';
import { type Io, println, table } from '../../../agent/src/cli/io.js';
import { parseDevice, parseRegistry } from '../registry/index.js';
import { type DeviceInput, Store } from '../store/index.js';
import { COMMON_HELP, parse, storeUrl, UsageError } from './args.js';

const HELP = `Usage: edge-platform devices <add|list|revoke|import> [options]

The registry: which devices exist, where they stand, and which keys sign their batches.
Collectors reload it every few seconds; a revoked key's batches are refused and alerted.

  devices add ID --key BASE64 [--site NAME] [--lat N --lon N] [--group G]... 
              [--cert-fingerprint HEX] [--cert-expires DATE] [--valid-from DATE] [--valid-until DATE]
                    add a device (or a key, or facts, to a known one); --key is the
                    signingPublicKey that \`edge-agent identity show --json\` prints
  devices list      every device with its keys, site and state
  devices revoke ID [--key KEYID] [--reason TEXT]
                    revoke one key, or the device and all its keys
  devices import FILE
                    add every device of a registry JSON file (an array of what
                    \`identity show --json\` prints, or {"devices": [...]}); all or nothing

${COMMON_HELP}`;

const OPTIONS = {
  key: { type: 'string' },
  site: { type: 'string' },
  lat: { type: 'string' },
  lon: { type: 'string' },
  group: { type: 'string', multiple: true },
  'cert-fingerprint': { type: 'string' },
  'cert-expires': { type: 'string' },
  'valid-from': { type: 'string' },
  'valid-until': { type: 'string' },
  reason: { type: 'string' },
} as const;

export async function devicesCommand(args: string[], io: Io): Promise<number> {
  const { values: o, positionals } = parse(args, OPTIONS);
  const [sub, arg] = positionals;
  if (o.help || sub === undefined) {
    println(o.help ? io.stdout : io.stderr, HELP);
    return o.help ? 0 : 2;
  }
  if (!['add', 'list', 'revoke', 'import'].includes(sub))
    throw new UsageError(`unknown subcommand "${sub}" (add, list, revoke, import)`);
  if (sub !== 'list' && !arg)
    throw new UsageError(`devices ${sub} needs ${sub === 'import' ? 'a FILE' : 'a device ID'}`);
  // Parse everything before opening the store: bad input changes nothing.
  let input: DeviceInput[] = [];
  if (sub === 'import') input = parseRegistry(readFileSync(arg, 'utf8'), arg);
  if (sub === 'add') {
    const num = (f: 'lat' | 'lon') => (o[f] === undefined ? undefined : Number(o[f]));
    input = [
      parseDevice(
        JSON.parse(
          JSON.stringify({
            deviceId: arg,
            signingPublicKey: o.key,
            site: o.site,
            lat: num('lat'),
            lon: num('lon'),
            groups: o.group,
            certFingerprint: o['cert-fingerprint'],
            certExpiresAt: o['cert-expires'],
            keyValidFrom: o['valid-from'],
            keyValidUntil: o['valid-until'],
          }),
        ),
        'devices add',
      ),
    ];
  }
  const store = new Store({ url: storeUrl(o.store, args, io.env), migrate: !o['no-migrate'] });
  await store.start();
  try {
    if (sub === 'add' || sub === 'import') {
      await store.addDevices(input);
      if (o.json) println(io.stdout, JSON.stringify({ added: input.map((d) => d.deviceId) }));
      else println(io.stdout, `${input.length} device${input.length === 1 ? '' : 's'} added or updated`);
      return 0;
    }
    if (sub === 'revoke') {
      const n = await store.revoke(arg, o.key, o.reason ?? 'revoked by an operator');
      if (o.json) println(io.stdout, JSON.stringify({ deviceId: arg, keysRevoked: n }));
      else
        println(
          io.stdout,
          `${arg}: ${o.key ? `key ${o.key}` : 'device'} revoked (${n} key${n === 1 ? '' : 's'})`,
        );
      return 0;
    }
    const list = await store.devices();
    if (o.json) println(io.stdout, JSON.stringify(list, null, 2));
    else
      println(
        io.stdout,
        table(
          ['DEVICE', 'SITE', 'GROUPS', 'KEYS', 'STATE'],
          list.map((d) => [
            d.deviceId,
            d.site ?? '',
            d.groups.join(','),
            `${d.keys.filter((k) => !k.revokedAt).length}/${d.keys.length}`,
            d.revokedAt ? 'revoked' : 'active',
          ]),
        ),
      );
    return 0;
  } finally {
    await store.stop();
  }
}
