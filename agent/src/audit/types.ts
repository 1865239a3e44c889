import type { Clock, Severity } from '../core/index.js';
import type { Feed } from '../software/index.js';

/** A place in a file that shows why a check passed or failed. */
export interface Evidence {
  file: string;
  line?: number;
  text: string;
}

export type Status = 'pass' | 'fail' | 'not-applicable' | 'not-readable';

/**
 * One check's finding, the shape every check report has: the audit's outcomes,
 * and the checks of `doctor` and `enroll`. Those may also warn, give the fix
 * for what they found (the audit's checks give theirs as `remedy`) and time a
 * step where the timing is the point (DNS, TCP, TLS, MQTT).
 */
export interface Finding {
  id: string;
  status: Status | 'warn';
  detail: string;
  evidence?: Evidence[];
  fix?: string;
  ms?: number;
}

export interface CheckResult {
  status: Status;
  evidence: Evidence[];
  /** One sentence on what was found. */
  detail: string;
}

/** What a check may look at. */
export interface AuditContext {
  /** Filesystem root of the gateway (a mounted image, a fixture tree, or `/`). */
  root: string;
  /** Listening sockets allowed (`tcp/22`). */
  allowListeners: string[];
  /** The agent's own files, when a config is known. */
  agent?: {
    signingKey: string;
    tlsKey: string;
    dataDir: string;
    mqttUrl: string;
    ca: string;
    insecurePlaintext: boolean;
  };
  /** Why there is no `agent` (an image without the agent): the checks of the agent are not applicable. */
  agentAbsent?: string;
  /** The image's agent config exists but cannot be read or is invalid: the checks of the agent fail. */
  agentConfigProblem?: string;
  /** The signed vulnerability feed in force (or why there is none), for the software check. */
  software?: { feed: Feed | null; problem?: string; lockfile?: string };
  /** Broker probing, when enabled and a config is known (never for an image). */
  probe?: {
    host: string;
    tlsPort: number;
    plaintextPorts: number[];
    ca: string;
    servername?: string;
    timeoutMs: number;
    /** Times out a probe that gets no answer. */
    clock: Clock;
  };
}

/** A declarative posture check. */
export interface Check {
  id: string;
  title: string;
  severity: Severity;
  rationale: string;
  remedy: string;
  /** ETSI EN 303 645 provisions it evidences. */
  etsi: string[];
  /** IEC 62443-4-2 requirements it evidences. */
  iec: string[];
  run(ctx: AuditContext): Promise<CheckResult> | CheckResult;
}
