/**
 * Alerts the store raises itself, inside the transaction that stores their evidence:
 * race-free (no cursor over identity values that commit out of order) and live (the
 * NOTIFY goes out at COMMIT). Every trigger body swallows its own errors: a hostile or
 * malformed report must never make ingest fail, or the agent would resend it forever.
 */
export const DERIVE = `
-- The agent's Severity: INFO 1, LOW 2, MEDIUM 3, HIGH 4, CRITICAL 5.
CREATE FUNCTION console_severity(s smallint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN s >= 5 THEN 'critical' WHEN s = 4 THEN 'high' WHEN s = 3 THEN 'medium' ELSE 'low' END
$$;
-- The one upsert every source uses: a live alert with the same device, type and subject
-- counts the repeat; with repeat = false only changed evidence counts (a state seen again).
CREATE FUNCTION console_raise(p_device text, p_type text, p_subject text, p_severity text, p_summary text,
  p_evidence jsonb, p_n integer, p_at timestamptz, p_repeat boolean) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_id bigint;
BEGIN
  INSERT INTO console_alerts (device_id, type, subject, severity, summary, evidence, count, first_at, last_at)
  VALUES (p_device, p_type, p_subject, p_severity, p_summary, p_evidence, p_n, p_at, p_at)
  ON CONFLICT (device_id, type, subject) WHERE state <> 'resolved' DO UPDATE
    SET count = console_alerts.count + EXCLUDED.count, last_at = GREATEST(console_alerts.last_at, EXCLUDED.last_at),
        evidence = EXCLUDED.evidence, summary = EXCLUDED.summary
    WHERE p_repeat OR console_alerts.evidence IS DISTINCT FROM EXCLUDED.evidence
  RETURNING id INTO v_id;
  IF v_id IS NOT NULL THEN
    PERFORM pg_notify('edge_console', json_build_object('kind', 'alert', 'id', v_id, 'device', p_device)::text);
  END IF;
  RETURN v_id;
END $$;

CREATE FUNCTION console_on_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_type text;
  v_hash text;
BEGIN
  BEGIN
    v_type := CASE
      WHEN NEW.type = 'tamper.door_open' THEN 'door_open'
      WHEN NEW.type LIKE 'integrity.%' THEN 'integrity_change'
      WHEN NEW.type = 'sensor.vulnerable' THEN 'vulnerable_firmware'
      WHEN NEW.type = 'cert.expiring' OR NEW.type = 'cert.expired' THEN 'certificate_expiring'
    END;
    SELECT encode(payload_hash, 'hex') INTO v_hash FROM batches
      WHERE device_id = NEW.device_id AND stream = 2 AND epoch = NEW.epoch AND seq = NEW.seq;
    PERFORM console_raise(NEW.device_id, v_type, NEW.subject, console_severity(NEW.severity),
      NEW.type || ' ' || NEW.subject,
      jsonb_build_object('event', NEW.type, 'details', NEW.details, 'stream', 'events', 'epoch', NEW.epoch,
        'seq', NEW.seq, 'payloadHash', v_hash),
      COALESCE(NEW.count, 1), NEW.ts, true);
  EXCEPTION WHEN others THEN
    RAISE WARNING 'console alert from event %: %', NEW.type, SQLERRM;
  END;
  RETURN NULL;
END $$;
CREATE TRIGGER console_event_alerts AFTER INSERT ON security_events FOR EACH ROW
  WHEN (NEW.type IN ('tamper.door_open', 'integrity.modified', 'integrity.added', 'integrity.removed',
    'integrity.perms_changed', 'sensor.vulnerable', 'cert.expiring', 'cert.expired'))
  EXECUTE FUNCTION console_on_event();

-- What the collectors themselves alert on: a seq arriving again with another payload, a
-- broken hash chain, a batch signed by a revoked key.
CREATE FUNCTION console_on_store_alert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    IF NEW.device_id IS NOT NULL THEN
      PERFORM console_raise(NEW.device_id,
        CASE WHEN NEW.kind = 'conflicting_duplicate' THEN 'conflicting_batch' ELSE NEW.kind END,
        COALESCE(substring(NEW.detail FROM '^(stream \\d+ epoch \\d+)'), NEW.kind),
        'critical', NEW.kind || ': ' || NEW.detail,
        jsonb_build_object('storeAlert', NEW.id, 'detail', NEW.detail), 1, NEW.at, true);
    END IF;
  EXCEPTION WHEN others THEN
    RAISE WARNING 'console alert from store alert %: %', NEW.id, SQLERRM;
  END;
  RETURN NULL;
END $$;
CREATE TRIGGER console_store_alerts AFTER INSERT ON alerts FOR EACH ROW EXECUTE FUNCTION console_on_store_alert();

-- A posture score that drops between two audit reports of a gateway.
CREATE FUNCTION console_on_audit_report() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_new integer;
  v_old integer;
BEGIN
  BEGIN
    v_new := (convert_from(NEW.body, 'UTF8')::jsonb ->> 'score')::integer;
    SELECT (convert_from(body, 'UTF8')::jsonb ->> 'score')::integer INTO v_old FROM reports
      WHERE device_id = NEW.device_id AND kind = 'audit' AND (created_at, epoch, seq) < (NEW.created_at, NEW.epoch, NEW.seq)
      ORDER BY created_at DESC, epoch DESC, seq DESC LIMIT 1;
    IF v_old IS NOT NULL AND v_new IS NOT NULL AND v_new < v_old THEN
      PERFORM console_raise(NEW.device_id, 'posture_drop', 'audit',
        CASE WHEN v_old - v_new >= 20 THEN 'high' ELSE 'medium' END,
        format('posture score %s -> %s', v_old, v_new),
        jsonb_build_object('from', v_old, 'to', v_new, 'stream', 'reports', 'epoch', NEW.epoch, 'seq', NEW.seq),
        1, NEW.created_at, true);
    END IF;
  EXCEPTION WHEN others THEN
    RAISE WARNING 'console alert from audit report: %', SQLERRM;
  END;
  RETURN NULL;
END $$;
CREATE TRIGGER console_audit_reports AFTER INSERT ON reports FOR EACH ROW WHEN (NEW.kind = 'audit')
  EXECUTE FUNCTION console_on_audit_report();

-- Status changes reach open pages at once (online, offline by goodbye or last will).
CREATE FUNCTION console_on_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('edge_console', json_build_object('kind', 'status', 'device', NEW.device_id,
    'state', NEW.state)::text);
  RETURN NULL;
END $$;
CREATE TRIGGER console_status AFTER INSERT OR UPDATE ON device_status FOR EACH ROW EXECUTE FUNCTION console_on_status();
`;
