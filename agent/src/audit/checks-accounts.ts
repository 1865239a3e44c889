import { Severity } from '../core/index.js';
import { fail, meaningfulLines, na, pass, readGateway, unreadable } from './files.js';
import { cryptMatches, VENDOR_DEFAULTS } from './passwords.js';
import type { Check, Evidence } from './types.js';

export const defaultPasswords: Check = {
  id: 'accounts.default-passwords',
  title: 'No account has an empty or vendor-default password',
  severity: Severity.CRITICAL,
  rationale:
    'Universal default passwords are the first thing attackers try on exposed devices (Mirai and its successors).',
  remedy:
    'Set a unique strong password with `passwd <user>` or lock the account with `passwd -l <user>`; prefer SSH keys.',
  etsi: ['5.1-1', '5.1-2'],
  iec: ['CR 1.5', 'CR 1.7'],
  async run({ root }) {
    const r = readGateway(root, '/etc/shadow');
    if (r.kind === 'missing') return na('no /etc/shadow');
    if (r.kind === 'not-readable') return unreadable(r.path);
    const accounts = meaningfulLines(r.text)
      .map(({ n, line }) => ({ n, user: line.split(':')[0], hash: line.split(':')[1] ?? '' }))
      .filter((a) => a.user);
    const evidence: Evidence[] = [];
    for (const a of accounts)
      if (a.hash === '')
        evidence.push({ file: r.path, line: a.n, text: `${a.user}: empty password (login without one)` });
    const hashed = accounts.filter((a) => a.hash.startsWith('$') || /^[./0-9A-Za-z]{13}$/.test(a.hash));
    const pairs = hashed.flatMap((a) =>
      [...VENDOR_DEFAULTS, a.user].map((candidate) => ({ candidate, hash: a.hash, a })),
    );
    const matches = await cryptMatches(pairs);
    if (!Array.isArray(matches))
      return {
        status: 'not-readable',
        detail: `cannot compute password hashes: ${matches.error}`,
        evidence: [],
      };
    const hit = new Set<string>();
    pairs.forEach((p, i) => {
      if (!matches[i] || hit.has(p.a.user)) return;
      hit.add(p.a.user);
      const scheme = p.hash.startsWith('$') ? p.hash.split('$')[1] : 'des';
      evidence.push({
        file: r.path,
        line: p.a.n,
        text: `${p.a.user}: password is a well-known default (scheme $${scheme}$)`,
      });
    });
    return evidence.length > 0
      ? fail(`${evidence.length} account(s) with an empty or default password`, evidence)
      : pass(
          `${hashed.length} password(s) checked against ${VENDOR_DEFAULTS.length} defaults and the user name`,
        );
  },
};

export const extraUid0: Check = {
  id: 'accounts.uid0',
  title: 'Only root has UID 0',
  severity: Severity.HIGH,
  rationale: 'A second UID-0 account is a classic backdoor and escapes audit by name.',
  remedy: 'Remove the account or give it its own UID (`usermod -u`).',
  etsi: ['5.1-1'],
  iec: ['CR 1.1', 'CR 2.1'],
  run({ root }) {
    const r = readGateway(root, '/etc/passwd');
    if (r.kind === 'missing') return na('no /etc/passwd');
    if (r.kind === 'not-readable') return unreadable(r.path);
    const bad = meaningfulLines(r.text)
      .map(({ n, line }) => ({ n, f: line.split(':') }))
      .filter(({ f }) => f[2] === '0' && f[0] !== 'root')
      .map(({ n, f }) => ({ file: r.path, line: n, text: `${f[0]} has UID 0` }));
    return bad.length
      ? fail(`${bad.length} account(s) besides root with UID 0`, bad)
      : pass('only root has UID 0');
  },
};
