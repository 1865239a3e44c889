import { arr, bool, obj, oneOf, optional, type Schema, str, validate } from '../config/index.js';
import type { FieldIssue } from '../core/index.js';
import { type Audience, checkProfilesDocument, type TrustStore } from '../trust/index.js';

/** How to recognise a model on one bus. */
export interface MatchRule {
  /** USB vendor and product ids (4 hex digits). */
  usb?: { vendorId: string; productId: string };
  /** A regular expression over the USB product string. */
  productPattern?: string;
  /** 1-Wire family code (2 hex digits). */
  w1Family?: string;
  /** I2C client name as the kernel driver reports it. */
  i2cName?: string;
  /** MAC prefix of LAN peers (`aa:bb:cc`). */
  macPrefix?: string;
}

/** A known vulnerability of the model. */
export interface Vulnerability {
  cve: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  /** Versions below this one are affected (as the bus reports them); absent: the bus cannot tell, so every unit is flagged. */
  firmwareBelow?: string;
  note?: string;
}

/** One sensor model (one file in firmware-profiles/). */
export interface Profile {
  id: string;
  vendor: string;
  model: string;
  match: MatchRule[];
  /** Firmware revisions (as the bus reports them) known good; absent: any. */
  approvedFirmware?: string[];
  vulnerabilities?: Vulnerability[];
  /** End of support (YYYY-MM-DD); after it the verdict is `unsupported`. */
  endOfSupport?: string;
  /** false: a model the city does not accept at all. */
  supported?: boolean;
  /** For the technician. */
  notes?: string;
}

const HEX4 = /^[0-9a-f]{4}$/;
export const profileSchema: Schema<Profile> = obj<Profile>({
  id: str({ pattern: /^[a-z0-9][a-z0-9-]{1,63}$/, hint: 'must be a lowercase id' }),
  vendor: str({ min: 1, max: 64 }),
  model: str({ min: 1, max: 128 }),
  match: arr(
    obj<MatchRule>({
      usb: optional(
        obj({
          vendorId: str({ pattern: HEX4, hint: 'must be 4 lowercase hex digits' }),
          productId: str({ pattern: HEX4, hint: 'must be 4 lowercase hex digits' }),
        }),
      ),
      productPattern: optional(str({ min: 1, max: 128 })),
      w1Family: optional(str({ pattern: /^[0-9a-f]{2}$/, hint: 'must be 2 hex digits' })),
      i2cName: optional(str({ min: 1, max: 32 })),
      macPrefix: optional(
        str({ pattern: /^([0-9a-f]{2}:){2}[0-9a-f]{2}$/, hint: 'must look like aa:bb:cc' }),
      ),
    }),
    { max: 32 },
  ),
  approvedFirmware: optional(arr(str({ min: 1, max: 32 }), { max: 256 })),
  vulnerabilities: optional(
    arr(
      obj<Vulnerability>({
        cve: str({ pattern: /^(CVE-\d{4}-\d{4,}|TEST-\d{4}-\d{4,})$/, hint: 'must be a CVE id' }),
        severity: oneOf(['low', 'medium', 'high', 'critical'] as const),
        firmwareBelow: optional(str({ min: 1, max: 32 })),
        note: optional(str({ max: 512 })),
      }),
      { max: 128 },
    ),
  ),
  endOfSupport: optional(str({ pattern: /^\d{4}-\d{2}-\d{2}$/, hint: 'must be YYYY-MM-DD' })),
  supported: optional(bool()),
  notes: optional(str({ max: 2048 })),
});

/** Validates a list of profiles; every issue names the profile's index and field. */
export function parseProfiles(
  value: unknown,
): { ok: true; profiles: Profile[] } | { ok: false; issues: FieldIssue[] } {
  const list = (value as { profiles?: unknown })?.profiles;
  if (!Array.isArray(list))
    return { ok: false, issues: [{ path: 'body.profiles', message: 'must be an array of profiles' }] };
  const issues: FieldIssue[] = [];
  const profiles: Profile[] = [];
  list.forEach((p, i) => {
    const r = validate(profileSchema, p);
    if (!r.ok)
      issues.push(
        ...r.issues.map((x) => ({
          path: `body.profiles[${i}]${x.path ? `.${x.path}` : ''}`,
          message: x.message,
        })),
      );
    else {
      for (const [j, m] of r.value.match.entries()) {
        if (m.productPattern) {
          try {
            new RegExp(m.productPattern);
          } catch {
            issues.push({
              path: `body.profiles[${i}].match[${j}].productPattern`,
              message: 'is not a regular expression',
            });
          }
        }
      }
      profiles.push(r.value);
    }
  });
  return issues.length ? { ok: false, issues } : { ok: true, profiles };
}

/** A signed profiles bundle, verified before parsing and validated; throws DocumentError with the reason. */
export function loadProfilesBundle(
  raw: Uint8Array,
  store: TrustStore,
  audience: Audience,
  maxBytes = 1024 * 1024,
): { version: number; profiles: Profile[] } {
  const doc = checkProfilesDocument(raw, store, maxBytes, audience);
  const r = parseProfiles(doc.body);
  if (!r.ok)
    throw Object.assign(new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')), {
      code: 'SCHEMA',
      version: doc.version,
    });
  return { version: doc.version, profiles: r.profiles };
}
