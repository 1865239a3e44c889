/** How one stream is cut into batches. */
export interface BatchPolicy {
  /** Seal a batch once it holds this many items. */
  maxItems: number;
  /** Seal a batch at most this many milliseconds (monotonic) after its first item arrived. */
  maxDelayMs: number;
}

/** One privacy rule: which readings, what part, what to do. */
export interface PrivacyRule {
  /** Sensor ids the rule applies to; `*` wildcards allowed (`wifi-*`). */
  sensors: string[];
  /** `value` or `label:<name>`; `drop` may also name `reading` (the whole reading). */
  target: string;
  /** What to do with it. */
  action: 'drop' | 'pseudonymise' | 'generalise' | 'seal';
  /** For `generalise` of a number: round to a multiple of this step (0.01 for coordinates to about 1 km). */
  step?: number;
  /** For `generalise` of the timestamp (`target` `ts`): truncate to this many seconds. */
  truncateS?: number;
}

/** The agent's configuration file (JSON). Relative paths are resolved against the file's folder. */
export interface AgentConfig {
  /** The gateway itself. */
  device: {
    /** Device id: `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`; also the certificate CN and the MQTT username. Required. */
    id: string;
    /** Groups the device belongs to, used to target remote configuration. Default `[]`. */
    groups: string[];
  };
  /** Signed remote management (DESIGN.md, Trust). */
  trust: {
    /** The platform's root public key, pinned at enrollment (base64 of the raw 32-byte Ed25519 key). Without it, no signed document is accepted. */
    rootKey?: string;
    /** Largest signed document accepted, in bytes. Default 65536. */
    maxDocumentBytes: number;
    /** After a remote change of connectivity, roll back if the collector is not reached within this many seconds (monotonic). Default 300. */
    rollbackAfterS: number;
  };
  /** Local persistence. */
  storage: {
    /** Data folder: outbox database, identity, inventory. Required. */
    dir: string;
    /** Byte budget of the outbox, database and WAL together; the oldest telemetry is evicted past it. Default 256 MiB. */
    maxBytes: number;
    /** Free space to keep on the data filesystem; eviction starts below it. Default 64 MiB. */
    minFreeBytes: number;
  };
  /** The upstream MQTT link (mutual TLS). */
  mqtt: {
    /** Broker URL, `mqtts://host:port`. Required. */
    url: string;
    /** PEM file of the pinned CA bundle that signed the broker's certificate. Required. */
    ca: string;
    /** PEM file of this device's client certificate (chain). Required. */
    cert: string;
    /** PEM file of the TLS private key (mode 0600). Required. */
    key: string;
    /** Topic prefix; topics are `{prefix}/{deviceId}/...`. Default `edge/v1`. */
    topicPrefix: string;
    /** MQTT protocol version: 5, or 4 (3.1.1) for brokers that lack 5. Default 5. */
    protocolVersion: 4 | 5;
    /** TLS server name to verify when `url` names an IP address. Default: the URL's host. */
    servername?: string;
    /** MQTT keepalive in seconds. Default 30. */
    keepaliveS: number;
    /**
     * Allow a plain `mqtt://` URL (no TLS). For a development bench only: every
     * connection then logs an error-level warning. Default false.
     */
    insecurePlaintextForDevelopment: boolean;
  };
  /** Delivery of the outbox to the collector. */
  sync: {
    /**
     * `collector` (default): a row is deleted only when the collector's `ack` covers it.
     * `broker`: deleted on PUBACK, the weaker guarantee for platforms that cannot ack
     * (a broker that drops a message after PUBACK loses it).
     */
    ackMode: 'collector' | 'broker';
    /** PUBACKed rows not acked by the collector within this time (monotonic, while connected) are sent again. Default 60000. */
    ackTimeoutMs: number;
    /** Most QoS 1 publishes awaiting PUBACK at once; never above the broker's Receive Maximum. Default 100. */
    inflight: number;
    /** Most envelope bytes in those publishes (one batch always fits an empty window). Default 1048576. */
    inflightBytes: number;
    /** A publish without PUBACK within this time counts as failed and is sent again. Default 30000. */
    publishTimeoutMs: number;
    /** A connection attempt without CONNACK within this time fails. Default 15000. */
    connectTimeoutMs: number;
    /** Reconnect backoff, full jitter: a random delay up to min(max, min * 2^attempt), and never two attempts less than this apart. Default 1000. */
    backoffMinMs: number;
    /** Upper bound of the reconnect backoff. Default 60000. */
    backoffMaxMs: number;
    /** Publishes per second at most while draining a backlog; 0 = unlimited. Default 0. */
    rateLimit: number;
  };
  /** The device's own keys. */
  identity: {
    /** Ed25519 signing key (PKCS#8 PEM, mode 0600). Default `<storage.dir>/identity/signing.key`. */
    signingKey: string;
    /** Where `identity init` writes the TLS certificate signing request. Default `<storage.dir>/identity/tls.csr`. */
    csr: string;
    /** Renew the client certificate once this share of its lifetime has passed. Default 0.667. */
    renewAt: number;
    /** How often the client certificate is read again for expiry, renewal and damage. Default 3600 s. */
    checkIntervalS: number;
  };
  /** Batching per stream. */
  batching: {
    /** Readings and health metrics. Default 100 items or 1000 ms. */
    telemetry: BatchPolicy;
    /** Security events: small and fast. Default 50 items or 200 ms. */
    events: BatchPolicy;
    /** Reports: one per batch. Default 1 item or 0 ms. */
    reports: BatchPolicy;
  };
  /** Local control sockets. */
  sockets: {
    /** Ingest and read-only commands (mode 0660). Default `<storage.dir>/agent.sock`. */
    agent: string;
    /** State-changing commands (mode 0600). Default `<storage.dir>/admin.sock`. */
    admin: string;
  };
  /** Gateway health metrics, sent as readings of sensor `gateway` on the telemetry stream. */
  health: {
    /** Sample them at all. Default true. */
    enabled: boolean;
    /** Cron expression with seconds (six fields). Default `0 * * * * *` (every minute). */
    schedule: string;
  };
  /** Security monitoring of the gateway itself. */
  monitor: {
    /** Login failures and successes (sshd, login, sudo). */
    auth: {
      /** `journal` (systemd journal, Raspberry Pi OS Bookworm), `file` (an auth log) or `off`. Default `journal`. */
      source: 'journal' | 'file' | 'off';
      /** The auth log read when `source` is `file`. Default `/var/log/auth.log`. */
      file: string;
      /** Failures from one address within `windowS` that make a brute-force alert. Default 5. */
      threshold: number;
      /** Window of the brute-force count, and the most an alert is held back during a sustained attack. Default 60. */
      windowS: number;
      /** Accounts whose successful login is an informational `auth.login` event (root always raises `auth.root_login`). Default `[]`. */
      technicians: string[];
    };
    /** Listening sockets not in the allowlist raise `net.new_listener`. */
    listeners: {
      /** Check at all. Default true. */
      enabled: boolean;
      /** Allowed listeners as `proto/port` (`tcp/22`, `udp/123`); the agent's own need none. Default `["tcp/22"]`. */
      allow: string[];
      /** Seconds between checks. Default 30. */
      intervalS: number;
    };
    /** Wall-clock sanity. */
    clock: {
      /** A forward jump beyond this many seconds (relative to the monotonic clock) is a `clock.jump`; any backward jump is. Default 300. */
      maxForwardJumpS: number;
      /** Seconds between checks. Default 10. */
      intervalS: number;
    };
    /** A cabinet-door switch read from a GPIO value file; absent means no switch. */
    door?: {
      /** The file holding 0 or 1, e.g. `/sys/class/gpio/gpio17/value`. */
      path: string;
      /** The value that means "open". Default `1`. */
      openValue: string;
    };
    /** Same event (type and subject) within this many seconds is aggregated into one with a count. Default 60. */
    aggregateS: number;
    /** Filesystem root for /proc, /sys and logs (tests use a fixture tree). Default `/`. */
    root: string;
  };
  /** The sensor inventory and the signed firmware profiles. */
  sensors: {
    /** Take the inventory in the daemon. Default true. */
    enabled: boolean;
    /** Cron (six fields) of the inventory; it also runs at start. Default: every five minutes. */
    schedule: string;
    /** Sensors the buses cannot describe (Modbus, RS-485): id, expected profile id, and the port they sit on. Default `[]`. */
    declared: { id: string; model: string; location?: string }[];
    /** The signed profiles bundle. Default `<storage.dir>/profiles-bundle.json`. */
    profilesBundle: string;
  };
  /** The gateway's own software (SBOM) and the signed vulnerability feed. */
  software: {
    /** Take the software inventory in the daemon (at start and on the schedule). Default true. */
    enabled: boolean;
    /** Cron (six fields) of the inventory; the feed file is re-read then too. Default `0 15 * * * *` (hourly). */
    schedule: string;
    /** The signed `vulnerabilities` feed file. Default `<storage.dir>/vulnerabilities-feed.json`. */
    feed: string;
  };
  /** File integrity against a baseline signed with the device key. */
  integrity: {
    /** Gateway paths to record (folders are walked; symlinks recorded, never followed). Default: sshd config, passwd, shadow, group, sudoers, the agent's config and unit, /boot's config.txt and cmdline.txt, /boot/firmware. */
    paths: string[];
    /** Cron (six fields) of the scheduled verification. Default `0 0 * * * *` (hourly). */
    schedule: string;
    /** The signed baseline. Default `<storage.dir>/integrity-baseline.json`. */
    baselineFile: string;
  };
  /** The security posture audit. */
  audit: {
    /** Run the audit in the daemon (at start and on the schedule). Default true. */
    enabled: boolean;
    /** Cron (six fields) of the scheduled audit; it also runs at start. Default `0 30 3 * * *`. */
    schedule: string;
    /** Probe the broker: it must refuse TLS without a client certificate and offer no plaintext MQTT. Default true. */
    probeBroker: boolean;
    /** Ports on the broker's host where plaintext MQTT must not answer. Default `[1883]`. */
    plaintextPorts: number[];
  };
  /** Rules applied to every reading before it is sealed. */
  privacy: {
    /** Applied in order; a reading may match several. Default `[]`. */
    rules: PrivacyRule[];
    /** How often the pseudonymisation key rotates (its old key is destroyed). Default `daily`. */
    pseudonymRotation: 'hourly' | 'daily' | 'weekly';
    /** The platform's X25519 public key (base64, 32 bytes) for `seal` rules. */
    platformPublicKey?: string;
    /** Maximum age of unsent rows per stream, in hours; older rows are evicted with a notice. 0 = keep. Default 0. */
    retentionHours: { telemetry: number; events: number; reports: number };
  };
  /** The ingest protocol. */
  ingest: {
    /** Longest accepted NDJSON line in bytes; a longer line is refused. Default 65536. */
    maxLineBytes: number;
  };
  /** Logging. */
  log: {
    /** pino level. Default `info`. */
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    /** Write the log to this file instead of stderr (for machines without systemd's journal). */
    file?: string;
  };
}
