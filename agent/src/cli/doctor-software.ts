import type { Finding } from '../audit/index.js';
import type { AgentConfig } from '../config/index.js';
import {
  feedInForce,
  indexFeed,
  matchFeed,
  readInventory,
  type SoftwareSummary,
  summarize,
  summaryLine,
} from '../software/index.js';
import { cliAudience } from './inventory.js';

/** A feed older than this is worth a warning: the tracker and KEV list move every day. */
export const FEED_STALE_DAYS = 30;

/** The gateway's own software judged now, as the daemon judges it: inventory, feed in force, findings. */
export function softwareSummaryNow(cfg: AgentConfig, nowMs = Date.now()): SoftwareSummary {
  const root = cfg.monitor.root;
  let refused: string | undefined;
  const feed = feedInForce(
    root,
    { feedFile: cfg.software.feed, stateDir: cfg.storage.dir },
    cfg.trust.rootKey,
    (r) => {
      refused = r;
    },
    cliAudience(cfg),
  );
  const inv = readInventory(root);
  const findings = feed && inv.dpkg.state !== 'corrupt' ? matchFeed(inv, indexFeed(feed)) : [];
  return summarize(inv, findings, feed, nowMs, refused);
}

/** `doctor`'s software row: fails where the ETSI 5.3 posture check fails, warns on what weakens it;
 * a corrupt dpkg database is not-readable, never a pass. */
export function softwareRow(cfg: AgentConfig): Finding {
  const id = 'software';
  if (!cfg.software.enabled) return { id, status: 'not-applicable', detail: 'software.enabled is false' };
  const s = softwareSummaryNow(cfg);
  const detail = summaryLine(s);
  if (s.dpkg === 'corrupt')
    return {
      id,
      status: 'not-readable',
      detail,
      fix: 'restore /var/lib/dpkg/status (dpkg --audit; from backup)',
    };
  if (s.urgent > 0)
    return {
      id,
      status: 'fail',
      detail,
      fix: 'upgrade the known-exploited or critical packages that have a fix (edge-agent sbom lists them)',
    };
  const f = s.feed;
  if (!f)
    return {
      id,
      status: 'warn',
      detail,
      fix: `install a signed vulnerability feed at ${cfg.software.feed} (npm run vulnfeed)`,
    };
  if (f.expired || f.ageDays > FEED_STALE_DAYS || s.feedRefused)
    return {
      id,
      status: 'warn',
      detail,
      fix: s.feedRefused
        ? 'the newest feed offered was refused: publish one signed for this gateway and still valid'
        : 'publish a newer vulnerability feed',
    };
  if (s.vulnerablePackages > 0)
    return {
      id,
      status: 'warn',
      detail,
      fix: 'edge-agent sbom lists the vulnerable packages and their fixes',
    };
  return { id, status: 'pass', detail };
}
