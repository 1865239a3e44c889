import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, exitOf, startDaemon, writeConfig } from '../../helpers/agent.js';
import { addUsb, makeCabinet } from '../../helpers/cabinet.js';
import { makeGateway } from '../../helpers/gateway.js';
import { addDefect, emptyResult, type Row, rawControls, sleep } from '../lib.js';

/** What a hostile USB device or file name may carry to take over a technician's terminal or forge log lines. */
const HOSTILE: Buffer[] = [
  '\x1b[2J\x1b[1;31mPWNED',
  'line one\nfake: {"level":50,"msg":"forged"}',
  '\r\x1b[Kroot@gw:~# ',
  '\u009b31mC1 CSI',
  '\u202egnp.exe',
  '\x1b]0;new title\x07',
  '\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\',
  '\x07bell\x08\x7f',
  'x'.repeat(200),
].map((s) => Buffer.from(s));
HOSTILE.push(Buffer.from([0xff, 0xfe, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0xc2]));

/** A file named by the hostile bytes (a name cannot hold "/" or NUL; anything else is fair game). */
const hostileFile = (root: string, h: Buffer): Buffer =>
  Buffer.concat([
    Buffer.from(join(root, 'etc/edge-agent/')),
    Buffer.from(h.toString('latin1').replaceAll('/', '_'), 'latin1'),
  ]);

/** S7: hostile descriptors and file names never reach a terminal or the log raw. */
export const s7: Row = {
  id: 'S7',
  what: 'hostile USB descriptors and file names reaching a terminal or a log raw',
  async run(ctx) {
    const r = emptyResult('cases');
    const root = join(ctx.dir, 'gw');
    makeCabinet(root);
    makeGateway(root, 'hardened', '');
    HOSTILE.forEach((h, i) => {
      addUsb(root, {
        port: `2-1.${i + 1}`,
        vid: '1d6b',
        pid: '0002',
        manufacturer: h,
        product: h,
        serial: h,
      });
      writeFileSync(hostileFile(root, h), 'hostile');
    });
    const config = writeConfig(join(ctx.dir, 'agent'), {
      device: { id: 'gw-s7' },
      log: { level: 'debug' },
      monitor: { root, auth: { source: 'off' }, listeners: { enabled: false } },
      sensors: { enabled: true },
      integrity: { paths: ['/etc/edge-agent'] },
    });
    const init = cli(['identity', 'init'], { config });
    if (init.code !== 0) throw new Error(`identity init: ${init.stderr}`);
    const outputs: { name: string; text: string }[] = [];
    const run = (args: string[]) => {
      const o = cli(args, { config });
      outputs.push(
        { name: `${args.join(' ')} (stdout)`, text: o.stdout },
        { name: `${args.join(' ')} (stderr)`, text: o.stderr },
      );
    };
    run(['inventory', '--root', root]);
    run(['inventory', '--root', root, '--json']);
    run(['integrity', 'baseline']);
    HOSTILE.forEach((h, i) => {
      if (i % 2 === 1) writeFileSync(hostileFile(root, h), 'changed');
    });
    // --quick: the integrity output is a known defect (README), left to the full run.
    if (!ctx.quick) {
      run(['integrity', 'verify']);
      run(['integrity', 'verify', '--json']);
    }
    // The daemon takes the inventory and logs at debug level: its log must stay one clean JSON line per entry.
    const daemon = await startDaemon(config);
    let log = '';
    daemon.stderr?.on('data', (d) => {
      log += d;
    });
    await sleep(ctx.quick ? 1500 : 4000);
    run(['status']);
    daemon.kill('SIGTERM');
    await exitOf(daemon);
    outputs.push({ name: 'daemon log', text: log });
    for (const o of outputs) {
      r.cases += HOSTILE.length;
      const found = rawControls(o.text);
      if (found.length > 0)
        addDefect(r, `${o.name}: raw ${[...new Set(found)].slice(0, 6).join(' ')} reached the output`, 10);
      for (const line of o.name === 'daemon log' ? o.text.split('\n').filter(Boolean) : []) {
        try {
          JSON.parse(line);
        } catch {
          addDefect(
            r,
            `daemon log: a line that is not one JSON entry: ${JSON.stringify(line.slice(0, 120))}`,
          );
        }
      }
    }
    r.notes = `${HOSTILE.length} hostile strings through ${outputs.length} outputs (inventory, integrity, status, daemon log)${ctx.quick ? '; integrity verify output in the full run only' : ''}`;
    return r;
  },
};
