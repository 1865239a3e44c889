#!/usr/bin/env node
// scripts/pki: the operator's certificate tool (also used by tests and the demo).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../../agent/src/config/index.js';
import { quietStdio } from '../../agent/src/core/index.js';
import { createCa, type Issued, issueClient, issueServer, signCsr } from './lib.js';

const HELP = `Usage: pki <command> [options]

Commands:
  ca       --out DIR [--cn NAME] [--days N] [--force]   create a CA: DIR/ca.crt, DIR/ca.key (0600)
  server   --ca DIR --out DIR [--cn NAME] [--dns a,b] [--ip a,b] [--days N]
                                                        issue a broker certificate: DIR/server.crt, server.key
  sign-csr --ca DIR --csr FILE --out FILE [--cn ID] [--days N]
                                                        sign a device CSR into a client certificate (CN = device id)
  client   --ca DIR --cn ID --out DIR [--days N]        key + client certificate in one step: DIR/ID.crt, DIR/ID.key

A missing --out folder is created (0700); keys are written 0600, replacing a file in place.

Options:
  --not-before ISO   start of validity (default: one hour ago)
  -h, --help         this text
`;

/**
 * A missing --out folder is created 0700. Each file is written to a fresh temp file with its
 * final mode and renamed into place, so a key is 0600 from its first byte even when it
 * replaces an older key file that was readable by others.
 */
function writeIssued(dir: string, name: string, x: Issued): void {
  writeFileAtomic(join(dir, `${name}.crt`), x.certPem, 0o644);
  writeFileAtomic(join(dir, `${name}.key`), x.keyPem, 0o600);
}

function loadCa(dir: string): Issued {
  return {
    certPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    keyPem: readFileSync(join(dir, 'ca.key'), 'utf8'),
  };
}

function main(argv: string[]): number {
  const { values: o, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      ca: { type: 'string' },
      cn: { type: 'string' },
      csr: { type: 'string' },
      dns: { type: 'string' },
      ip: { type: 'string' },
      days: { type: 'string' },
      'not-before': { type: 'string' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const cmd = positionals[0];
  if (o.help || !cmd) {
    process.stdout.write(HELP);
    return o.help ? 0 : 2;
  }
  const need = (k: keyof typeof o): string => {
    const v = o[k];
    if (typeof v !== 'string') throw new Error(`${cmd} needs --${k}`);
    return v;
  };
  const validity = {
    days: o.days ? Number(o.days) : undefined,
    notBefore: o['not-before'] ? new Date(o['not-before']) : undefined,
  };
  switch (cmd) {
    case 'ca': {
      const out = need('out');
      if (existsSync(join(out, 'ca.key')) && !o.force)
        throw new Error(`${join(out, 'ca.key')} exists; pass --force to replace the CA`);
      writeIssued(out, 'ca', createCa(o.cn, validity));
      console.log(`CA written to ${out}/ca.crt and ${out}/ca.key`);
      return 0;
    }
    case 'server': {
      const out = need('out');
      const split = (s?: string) => (s ? s.split(',').filter(Boolean) : undefined);
      writeIssued(
        out,
        'server',
        issueServer(loadCa(need('ca')), { cn: o.cn, dns: split(o.dns), ips: split(o.ip), ...validity }),
      );
      console.log(`server certificate written to ${out}/server.crt`);
      return 0;
    }
    case 'sign-csr': {
      const out = need('out');
      writeFileAtomic(
        out,
        signCsr(loadCa(need('ca')), readFileSync(need('csr'), 'utf8'), { expectCn: o.cn, ...validity }),
        0o644,
      );
      console.log(`client certificate written to ${out}`);
      return 0;
    }
    case 'client': {
      const out = need('out');
      const cn = need('cn');
      writeIssued(out, cn, issueClient(loadCa(need('ca')), cn, validity));
      console.log(`client certificate written to ${out}/${cn}.crt`);
      return 0;
    }
    default:
      process.stderr.write(`unknown command ${cmd}\n${HELP}`);
      return 2;
  }
}

quietStdio();
try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`pki: ${(e as Error).message}\n`);
  process.exitCode = 2;
}
