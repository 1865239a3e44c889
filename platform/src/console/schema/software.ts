/**
 * The gateway's own software (#17): what the console read from each gateway's latest SBOM
 * report (gzipped CycloneDX the database cannot open), and an alert per package the agent
 * reports vulnerable.
 */
export const SOFTWARE = `
CREATE TABLE console_software (
  device_id text PRIMARY KEY,
  -- The signed report batch (stream reports) the SBOM came in.
  epoch bigint NOT NULL,
  seq bigint NOT NULL,
  reported_at timestamptz NOT NULL,
  components integer NOT NULL,
  -- Distinct packages with a finding; with a known exploited one; with a critical one.
  vulnerable integer NOT NULL,
  kev integer NOT NULL,
  critical integer NOT NULL,
  findings jsonb NOT NULL,
  meta jsonb NOT NULL,
  -- Why the report could not be read: its zero counts then mean "unknown", never "clean".
  problem text
);

CREATE FUNCTION console_on_software_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_hash text;
BEGIN
  BEGIN
    SELECT encode(payload_hash, 'hex') INTO v_hash FROM batches
      WHERE device_id = NEW.device_id AND stream = 2 AND epoch = NEW.epoch AND seq = NEW.seq;
    PERFORM console_raise(NEW.device_id, 'vulnerable_software', NEW.subject, console_severity(NEW.severity),
      NEW.type || ' ' || NEW.subject || COALESCE(': ' || (NEW.details ->> 'cves'), ''),
      jsonb_build_object('event', NEW.type, 'details', NEW.details, 'stream', 'events', 'epoch', NEW.epoch,
        'seq', NEW.seq, 'payloadHash', v_hash),
      COALESCE(NEW.count, 1), NEW.ts, true);
  EXCEPTION WHEN others THEN
    RAISE WARNING 'console alert from event %: %', NEW.type, SQLERRM;
  END;
  RETURN NULL;
END $$;
CREATE TRIGGER console_software_alerts AFTER INSERT ON security_events FOR EACH ROW
  WHEN (NEW.type = 'software.vulnerable') EXECUTE FUNCTION console_on_software_event();
`;
