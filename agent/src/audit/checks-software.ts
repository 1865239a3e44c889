import { Severity } from '../core/index.js';
import { DPKG_STATUS, indexFeed, matchFeed, readInventory, urgentFindings } from '../software/index.js';
import { fail, na, pass } from './files.js';
import type { Check } from './types.js';

/** Evidence lines listed for a failing check (the detail gives the count). */
export const MAX_SOFTWARE_EVIDENCE = 50;

export const softwareVulnerabilities: Check = {
  id: 'software.vulnerabilities',
  title: 'No known exploited or critical vulnerability with a fix is left unpatched',
  severity: Severity.CRITICAL,
  rationale:
    'A fix that exists but is not installed is the commonest way in: known exploited vulnerabilities are being used right now.',
  remedy:
    "apt update && apt upgrade (then reboot for a kernel fix); for the agent's own npm packages, install the agent release that carries the fix.",
  etsi: ['5.3-8', '5.3-2'],
  iec: ['CR 3.10', 'CR 3.4'],
  run({ root, software }) {
    const inv = readInventory(root, { lockfile: software?.lockfile });
    if (inv.dpkg.state === 'corrupt')
      return {
        status: 'not-readable',
        detail: `${inv.dpkg.problem}: the installed packages cannot be known`,
        evidence: [{ file: DPKG_STATUS, text: inv.dpkg.problem ?? 'corrupt' }],
      };
    if (inv.components.length === 0) return na('no dpkg database, kernel or agent lock file to judge');
    if (!software?.feed)
      return na(
        `no signed vulnerability feed in force${software?.problem ? ` (${software.problem})` : ''}: ${inv.components.length} components not judged`,
      );
    const all = matchFeed(inv, indexFeed(software.feed));
    const urgent = urgentFindings(all);
    const where = (kind: string) =>
      kind === 'npm' ? 'package-lock.json' : kind === 'kernel' ? '/proc/version' : DPKG_STATUS;
    if (urgent.length === 0)
      return pass(
        `${inv.components.length} components, ${all.length} known vulnerabilities, none known exploited or critical with a fix (feed v${software.feed.version})`,
      );
    return fail(
      `${urgent.length} known exploited or critical vulnerabilities with a fix available (feed v${software.feed.version})`,
      urgent.slice(0, MAX_SOFTWARE_EVIDENCE).map((f) => ({
        file: where(f.component.kind),
        text: `${f.id} in ${f.component.name} ${f.component.version}: fixed in ${f.fixed}${f.kev ? ', known exploited' : ''}${f.cvss !== undefined ? `, CVSS ${f.cvss}` : ''}`,
      })),
    );
  },
};
