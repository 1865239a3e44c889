import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, type Issued, issueClient, issueServer, signCsr, type Validity } from '../pki/lib.js';

/** A test PKI made by the project's own pki code, with files on disk. */
export class TestPki {
  readonly ca: Issued;
  readonly caFile: string;
  readonly server: { cert: string; key: string };

  constructor(
    readonly dir: string,
    serverOpts: { dns?: string[]; ips?: string[] } & Validity = {},
  ) {
    mkdirSync(dir, { recursive: true });
    this.ca = createCa('edge-agent test CA');
    this.caFile = this.write('ca.crt', this.ca.certPem);
    const s = issueServer(this.ca, serverOpts);
    this.server = {
      cert: this.write('server.crt', s.certPem),
      key: this.write('server.key', s.keyPem, 0o600),
    };
  }

  write(name: string, content: string, mode = 0o644): string {
    const f = join(this.dir, name);
    writeFileSync(f, content, { mode });
    return f;
  }

  /** Another server certificate from this CA (say, an expired one). */
  serverCert(
    name: string,
    opts: { dns?: string[]; ips?: string[] } & Validity,
  ): { cert: string; key: string } {
    const s = issueServer(this.ca, opts);
    return { cert: this.write(`${name}.crt`, s.certPem), key: this.write(`${name}.key`, s.keyPem, 0o600) };
  }

  /** A client key and certificate with CN = `cn`. */
  client(cn: string, v: Validity = {}): { cert: string; key: string } {
    const c = issueClient(this.ca, cn, v);
    return { cert: this.write(`${cn}.crt`, c.certPem), key: this.write(`${cn}.key`, c.keyPem, 0o600) };
  }

  /** Signs a device CSR into `out`. */
  signCsr(csrPem: string, out: string, v: Validity = {}): string {
    writeFileSync(out, signCsr(this.ca, csrPem, v));
    return out;
  }
}
