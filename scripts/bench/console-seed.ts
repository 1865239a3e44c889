import pg from 'pg';

const check = (id: string, status: string, etsi: string, iec: string) => ({
  id,
  title: id,
  status,
  severity: 3,
  etsi: [etsi],
  iec: [iec],
  detail: `${id} ${status}`,
  evidence: [],
});
/** An audit report of 20 checks, two of them failing. */
const AUDIT = JSON.stringify({
  score: 90,
  checks: Array.from({ length: 20 }, (_, i) =>
    check(`check-${i}`, i < 2 ? 'fail' : 'pass', `5.${(i % 13) + 1}-1`, `CR ${(i % 7) + 1}.1`),
  ),
});

/**
 * A city's worth of stored data, by bulk SQL (no ingest: what is timed is the console):
 * `gateways` registered gateways (status, chains, an audit and an SBOM report, 20 events
 * and 2 open alerts each) and `readings` readings spread over the last 24 h, 4 sensors per
 * gateway. Returns the seconds it took.
 */
export async function seedConsole(
  url: string,
  gateways: number,
  readings: number,
  sbom: Buffer,
): Promise<number> {
  // Its own connection: the store's pool cancels statements after 15 s, a million-row insert takes longer.
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return await seed(db, gateways, readings, sbom);
  } finally {
    await db.end();
  }
}

async function seed(db: pg.Client, gateways: number, readings: number, sbom: Buffer): Promise<number> {
  const t0 = performance.now();
  const id = (g: string) => `'gw-' || lpad((${g})::text, 4, '0')`;
  await db.query(
    `INSERT INTO devices (device_id, site, lat, lon, cert_expires_at)
     SELECT ${id('g')}, 'cabinet ' || g, 50.80 + (g % 40) * 0.002, 4.30 + (g / 40) * 0.002, now() + interval '300 days'
     FROM generate_series(0, $1::int - 1) g`,
    [gateways],
  );
  await db.query(
    `INSERT INTO device_status (device_id, state, agent_version, config_version, raw, updated_at)
     SELECT device_id, CASE WHEN random() < 0.05 THEN 'offline' ELSE 'online' END, '0.1.0', 1, '{}', now()
     FROM devices WHERE device_id LIKE 'gw-%'`,
  );
  await db.query(
    `INSERT INTO chains (device_id, stream, epoch, contiguous, highest, batches, updated_at)
     SELECT d.device_id, s, 1, 100, 100, 100, now() FROM devices d, generate_series(1, 3) s
     WHERE d.device_id LIKE 'gw-%'`,
  );
  // Gateway i % G, its k-th reading (k = i / G) k steps back from now over 24 h, sensor k % 4.
  await db.query(
    `INSERT INTO readings (device_id, sensor_id, ts, unit, kind, num, labels, epoch, seq)
     SELECT ${id('i % $1::int')}, 'aq-' || ((i / $1::int) % 4),
       now() - ((i / $1::int) * (86400.0 / greatest($2::int / $1::int, 1))) * interval '1 second',
       'ug/m3', 'number', 20 + 10 * sin(i / 50.0) + random(), '{}', 1, (i / $1::int) / 50 + 1
     FROM generate_series(0, $2::int - 1) i`,
    [gateways, readings],
  );
  for (const table of ['reports', 'latest_reports'])
    await db.query(
      `INSERT INTO ${table} (device_id, kind, created_at, content_type, body, epoch, seq)
       SELECT device_id, 'audit', now() - interval '1 hour', 'application/json', convert_to($1, 'UTF8'), 1, 1
       FROM devices WHERE device_id LIKE 'gw-%'
       UNION ALL
       SELECT device_id, 'sbom', now() - interval '1 hour', 'application/vnd.cyclonedx+json+gzip', $2, 1, 2
       FROM devices WHERE device_id LIKE 'gw-%'`,
      [AUDIT, sbom],
    );
  await db.query(
    `INSERT INTO security_events (device_id, ts, type, severity, subject, details, count, epoch, seq)
     SELECT d.device_id, now() - k * interval '1 hour', 'auth.failed', 3, 'ssh', '{}', 1, 1, k
     FROM devices d, generate_series(1, 20) k WHERE d.device_id LIKE 'gw-%'`,
  );
  await db.query(
    `INSERT INTO console_alerts (device_id, type, subject, severity, summary, first_at, last_at)
     SELECT d.device_id, t, 'seeded', 'high', t || ' (seeded)', now(), now()
     FROM devices d, unnest(ARRAY['door_open', 'integrity_change']) t WHERE d.device_id LIKE 'gw-%'`,
  );
  for (const t of [
    'devices',
    'device_status',
    'chains',
    'readings',
    'reports',
    'latest_reports',
    'security_events',
    'console_alerts',
  ])
    await db.query(`ANALYZE ${t}`);
  return (performance.now() - t0) / 1000;
}
